"""Bulk loader for the load test: N dossiers (default 100,000) across the whole lifecycle.

Not the services (too slow for 100,000 dossiers): rows are written with PostgreSQL ``COPY``
after the migrations, in the shapes the services produce — organisations and their porteur
accounts, one agent per EPCI (referent of its EPCI's dossiers), financing plans (expense
and resource lines), funding requests in the state that matches the dossier's, open
deadlines of the current step (and the met ones of the steps passed), the audit trail
(django-fsm-log ``StateLog`` rows: the dossier's path from ``idea`` and its requests'),
documents metadata (files are not written: nothing downloads them), payment claims and
payments of the dossiers paid off. Then the agent tasks (viewflow) of a sample of live
dossiers are built through the real service (``case_tasks_sync``), so that the agent
inbox has tasks to show, and a pool of submitted dossiers is kept aside for the
transitions of the load test.

``build(n)`` needs Django set up on the scratch database; it returns a manifest (users,
tokens, session keys, case ids per organisation, pools) for ``bench/load.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from decimal import Decimal

STATE_WEIGHTS = {
    "idea": 5,
    "scoping": 4,
    "draft": 8,
    "submitted": 6,
    "incomplete": 4,
    "instruction": 10,
    "decided": 8,
    "in_progress": 15,
    "completed": 8,
    "closed": 22,
    "rejected": 4,
    "withdrawn": 4,
    "lapsed": 2,
}
# The dossier's path from idea to its state: (transition, target), in order.
BASE = [("open_application", "draft"), ("submit", "submitted")]
INSTRUCT = [*BASE, ("declare_complete", "instruction")]
DECIDE = [*INSTRUCT, ("record_decisions", "decided")]
PATHS = {
    "idea": [],
    "scoping": [("start_scoping", "scoping")],
    "draft": [("start_scoping", "scoping"), ("open_application", "draft")],
    "submitted": BASE,
    "incomplete": [*BASE, ("request_documents", "incomplete")],
    "instruction": INSTRUCT,
    "decided": DECIDE,
    "in_progress": [*DECIDE, ("start_works", "in_progress")],
    "completed": [*DECIDE, ("start_works", "in_progress"), ("complete_works", "completed")],
    "closed": [
        *DECIDE,
        ("start_works", "in_progress"),
        ("complete_works", "completed"),
        ("close", "closed"),
    ],
    "rejected": [*INSTRUCT, ("record_decisions", "rejected")],
    "withdrawn": [*BASE, ("withdraw", "withdrawn")],
    "lapsed": [*DECIDE, ("lapse", "lapsed")],
}
# Funding request: state and path for each dossier state.
FR_PATHS = {
    "submitted": [],
    "incomplete": [],
    "instruction": [("start_instruction", "instructing")],
    "decided": [("start_instruction", "instructing"), ("grant", "granted")],
    "in_progress": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
    ],
    "completed": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
        ("start_paying", "paying"),
    ],
    "closed": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
        ("mark_paid", "paid"),
    ],
    "rejected": [("start_instruction", "instructing"), ("refuse", "refused")],
    "withdrawn": [("withdraw", "withdrawn")],
    "lapsed": [("start_instruction", "instructing"), ("grant", "granted"), ("lapse", "lapsed")],
}
PUBLIC_SCHEMES = ["DETR", "DSIL", "FONDS_VERT"]
PRIVATE_SCHEMES = ["LEADER", "REGION_OCC"]
THEMES = [
    "Voirie",
    "Écoles",
    "Patrimoine",
    "Transition énergétique",
    "Eau et assainissement",
    "Tourisme",
    "Commerce de proximité",
    "Culture",
    "Sport",
    "Santé",
]
WORDS = [
    "Rénovation",
    "Aménagement",
    "Création",
    "Extension",
    "Mise aux normes",
    "Réhabilitation",
]
OBJECTS = [
    "de l'école",
    "de la salle des fêtes",
    "du centre-bourg",
    "de la mairie",
    "du gîte communal",
    "de la halle",
    "du stade",
    "de la médiathèque",
    "des vestiaires",
    "de la voirie communale",
]
PASSWORD = "bench-2026"  # noqa: S105 - scratch database only


def _copy(table: str, columns: list[str], rows) -> int:
    """``COPY table (columns) FROM STDIN``; ``rows`` yields tuples. Returns the count."""
    from django.db import connection

    n = 0
    with connection.cursor() as cur:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cur.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


def _copy_model(model, rows: list[dict]) -> int:
    """COPY rows given as ``{attname: value}``; the other fields take their default
    (evaluated once), so that a column added later by a colleague does not break this."""
    fields = [f for f in model._meta.concrete_fields]
    defaults = {}
    for f in fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        elif f.primary_key:
            continue
        elif hasattr(f, "auto_now") and (f.auto_now or f.auto_now_add):
            defaults[f.attname] = dt.datetime.now(dt.UTC)
    with_pk = bool(rows) and model._meta.pk.attname in rows[0]
    fields = [f for f in fields if with_pk or not f.primary_key]
    columns = [f.column for f in fields]
    attnames = [f.attname for f in fields]

    def gen():
        for row in rows:
            out = []
            for a in attnames:
                v = row.get(a, defaults.get(a))
                if isinstance(v, dict | list):
                    v = json.dumps(v)
                out.append(v)
            yield tuple(out)

    return _copy(model._meta.db_table, columns, gen())


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequences(*models) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for m in models:
            t = m._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {t}))"
            )


def build(n: int, *, seed: int = 2026, pool_per_epci: int = 400, tasks_sample: int = 1000):
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection, transaction
    from django_fsm_log.models import StateLog
    from rest_framework.authtoken.models import Token

    from cases.models import (
        Case,
        Document,
        ExpenseLine,
        FundingRequest,
        Organisation,
        Payment,
        PaymentClaim,
        ResourceLine,
        User,
    )
    from engine.models import Deadline
    from schemes.models import EPCI, Commune, Scheme, Territory
    from workflows.agent_tasks import case_tasks_sync

    rnd = random.Random(seed)
    t0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    schemes = {s.code: s for s in Scheme.objects.all()}
    docs_of = {code: s.required_document_codes() for code, s in schemes.items()}
    communes = list(Commune.objects.select_related("epci"))
    epcis = list(EPCI.objects.all())
    prefixes = dict(Territory.objects.values_list("pk", "reference_prefix"))
    ct = ContentType.objects.get_for_models(Case, FundingRequest, PaymentClaim)
    ct_case, ct_fr, ct_claim = ct[Case].pk, ct[FundingRequest].pk, ct[PaymentClaim].pk
    hashed = make_password(PASSWORD)

    # ------------------------------------------------------------ organisations, users
    orgs = []
    for c in communes:
        orgs.append(
            Organisation(
                name=f"Commune de {c.name}",
                kind="commune",
                commune=c,
                epci=c.epci,
                territory_id=c.epci.territory_id,
            )
        )
    for e in epcis:
        orgs.append(Organisation(name=e.name, kind="epci", epci=e, territory_id=e.territory_id))
    for i in range(1900):
        c = rnd.choice(communes)
        orgs.append(
            Organisation(
                name=f"Association {i:04d} de {c.name}",
                kind="association",
                commune=c,
                epci=c.epci,
                territory_id=c.epci.territory_id,
            )
        )
    for i in range(1000):
        c = rnd.choice(communes)
        orgs.append(
            Organisation(
                name=f"SARL {i:04d} ({c.name})",
                kind="company",
                commune=c,
                epci=c.epci,
                territory_id=c.epci.territory_id,
            )
        )
    Organisation.objects.bulk_create(orgs, batch_size=2000)
    orgs = list(Organisation.objects.order_by("pk"))
    agents = {}
    for e in epcis:
        agents[e.pk] = User(
            username=f"bench.agent.{e.siren}",
            role="agent",
            epci=e,
            territory_id=e.territory_id,
            password=hashed,
        )
    User.objects.bulk_create(agents.values())
    agents = {u.epci_id: u for u in User.objects.filter(username__startswith="bench.agent.")}
    porteurs = [
        User(username=f"bench.porteur.{o.pk}", role="porteur", organisation=o, password=hashed)
        for o in orgs
    ]
    User.objects.bulk_create(porteurs, batch_size=2000)
    porteur_of = dict(
        User.objects.filter(username__startswith="bench.porteur.").values_list(
            "organisation_id", "pk"
        )
    )
    # Dossiers per organisation: communes and EPCI file far more than associations.
    weights = [40 if o.kind == "commune" else 60 if o.kind == "epci" else 1 for o in orgs]
    states = list(STATE_WEIGHTS)
    state_w = list(STATE_WEIGHTS.values())
    print(f"  organisations and users: {len(orgs)} orgs, {len(porteurs) + len(agents)} users")

    # ------------------------------------------------------------ dossiers and children
    case_id = _next_id(Case)
    fr_id = _next_id(FundingRequest)
    claim_id = _next_id(PaymentClaim)
    cases, through, expenses, resources, frs, logs, deadlines, documents = ([] for _ in range(8))
    claims, payments = [], []
    by_org: dict[int, list[int]] = {}
    by_state: dict[str, list[int]] = {}
    pool_candidates: dict[int, list[int]] = {}
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    org_choice = rnd.choices(orgs, weights=weights, k=n)
    state_choice = rnd.choices(states, weights=state_w, k=n)
    for i in range(n):
        pk = case_id + i
        org = org_choice[i]
        state = state_choice[i]
        created = now - dt.timedelta(days=rnd.randint(60, 2200), minutes=rnd.randint(0, 1440))
        path = PATHS[state]
        agent = agents[org.epci_id]
        porteur_id = porteur_of[org.pk]
        public = org.kind in ("commune", "epci")
        code = rnd.choice(PUBLIC_SCHEMES if public else PRIVATE_SCHEMES)
        codes = [code] + (["DEPT_TARN"] if public and rnd.random() < 0.2 else [])
        total = Decimal(rnd.randrange(20_000, 2_000_000, 500))
        studies = (total * Decimal("0.1")).quantize(Decimal("1"))
        rate = Decimal(rnd.choice(["0.30", "0.35", "0.40", "0.50"]))
        aid = [
            (c, (total * (rate if j == 0 else Decimal("0.10"))).quantize(Decimal("1")))
            for j, c in enumerate(codes)
        ]
        own = total - sum(a for _, a in aid)
        # event dates along the path, every few weeks
        t = created
        events = []
        for name, target in path:
            t = t + dt.timedelta(days=rnd.randint(5, 60))
            events.append((name, target, min(t, now - dt.timedelta(days=1))))
        receipt = next((e[2].date() for e in events if e[0] == "submit"), None)
        complete_on = next((e[2].date() for e in events if e[0] == "declare_complete"), None)
        works_start = next((e[2].date() for e in events if e[0] == "start_works"), None)
        works_end = next((e[2].date() for e in events if e[0] == "complete_works"), None)
        referent = agent.pk if receipt else None
        title = f"{rnd.choice(WORDS)} {rnd.choice(OBJECTS)} — {org.name}"[:300]
        requested_at = events[-1][2] if state == "incomplete" else None
        cases.append(
            {
                "id": pk,
                "reference": Territory.format_reference(
                    prefixes.get(org.territory_id, ""), created.year, pk, digits=6
                ),
                "title": title,
                "description": "Projet chargé pour le test de charge.",
                "theme": rnd.choice(THEMES),
                "organisation_id": org.pk,
                "epci_id": org.epci_id,
                "territory_id": org.territory_id,
                "referent_agent_id": referent,
                "state": state,
                "receipt_date": receipt,
                "complete_on": complete_on,
                "works_start_date": works_start,
                "works_end_date": works_end,
                "missing_documents": ["Plan de situation"] if state == "incomplete" else [],
                "documents_requested_at": requested_at,
                "withdraw_reason": "Projet abandonné." if state == "withdrawn" else "",
                "created_by_id": porteur_id,
                "created_at": created,
                "updated_at": events[-1][2] if events else created,
            }
        )
        by_org.setdefault(org.pk, []).append(pk)
        by_state.setdefault(state, []).append(pk)
        if state == "submitted":
            pool_candidates.setdefault(org.epci_id, []).append(pk)
        commune_id = org.commune_id or rnd.choice(communes).pk
        through.append((pk, commune_id))
        expenses.append(
            {
                "case_id": pk,
                "position": 0,
                "label": "Travaux",
                "amount": total - studies,
                "tax": "HT",
                "eligible": True,
            }
        )
        expenses.append(
            {
                "case_id": pk,
                "position": 1,
                "label": "Études et maîtrise d'œuvre",
                "amount": studies,
                "tax": "HT",
                "eligible": True,
            }
        )
        for j, (c, amount) in enumerate(aid):
            resources.append(
                {
                    "case_id": pk,
                    "position": j,
                    "kind": "scheme",
                    "scheme_id": schemes[c].pk,
                    "label": "",
                    "amount": amount,
                }
            )
        resources.append(
            {
                "case_id": pk,
                "position": len(aid),
                "kind": "self",
                "scheme_id": None,
                "label": "",
                "amount": own,
            }
        )
        # history of the dossier
        source = "idea"
        for name, target, at in events:
            by = (
                porteur_id
                if name
                in (
                    "open_application",
                    "submit",
                    "provide_documents",
                    "withdraw",
                    "start_works",
                    "complete_works",
                )
                else (None if name in ("record_decisions", "close", "lapse") else agent.pk)
            )
            logs.append(
                {
                    "timestamp": at,
                    "by_id": by,
                    "source_state": source,
                    "state": target,
                    "transition": name,
                    "content_type_id": ct_case,
                    "object_id": pk,
                    "description": None,
                }
            )
            source = target
        if receipt is None:
            continue
        # documents of the schemes asked for (metadata only)
        kinds = sorted({k for c in codes for k in docs_of[c]})
        for k in kinds:
            documents.append(
                {
                    "case_id": pk,
                    "kind": k,
                    "label": "",
                    "file": f"dossiers/{pk}/{k}.pdf",
                    "filename": f"{k}.pdf",
                    "size": 20480,
                    "content_type": "application/pdf",
                    "sha256": "0" * 64,
                    "uploaded_by_id": porteur_id,
                    "uploaded_at": next(e[2] for e in events if e[0] == "submit"),
                }
            )
        # completeness deadline, met or open
        submit_at = next(e[2] for e in events if e[0] == "submit")
        if state in ("submitted", "incomplete"):
            deadlines.append(
                {
                    "kind": "completeness",
                    "subject_type_id": ct_case,
                    "subject_id": pk,
                    "aggregate_id": pk,
                    "due_on": max(
                        receipt + dt.timedelta(days=61),
                        today + dt.timedelta(days=rnd.randint(5, 60)),
                    ),
                    "party": "agent",
                    "state": "suspended" if state == "incomplete" else "open",
                    "expiry_transition": "declare_complete",
                    "days_left_when_suspended": 30 if state == "incomplete" else None,
                    "opened_at": submit_at,
                }
            )
        else:
            deadlines.append(
                {
                    "kind": "completeness",
                    "subject_type_id": ct_case,
                    "subject_id": pk,
                    "aggregate_id": pk,
                    "due_on": receipt + dt.timedelta(days=61),
                    "party": "agent",
                    "state": "met",
                    "expiry_transition": "declare_complete",
                    "opened_at": submit_at,
                    "closed_at": submit_at + dt.timedelta(days=20),
                }
            )
        if state == "incomplete":
            deadlines.append(
                {
                    "kind": "documents",
                    "subject_type_id": ct_case,
                    "subject_id": pk,
                    "aggregate_id": pk,
                    "due_on": today + dt.timedelta(days=rnd.randint(1, 60)),
                    "party": "porteur",
                    "state": "open",
                    "opened_at": requested_at,
                }
            )
        # funding requests, their history, deadlines, claims
        fr_path = FR_PATHS.get(state, [])
        for c, amount in aid:
            fpk = fr_id
            fr_id += 1
            fr_state = fr_path[-1][1] if fr_path else "requested"
            granted = fr_state in ("granted", "committed", "paying", "paid", "lapsed")
            frs.append(
                {
                    "id": fpk,
                    "case_id": pk,
                    "scheme_id": schemes[c].pk,
                    "state": fr_state,
                    "amount_requested": amount,
                    "amount_granted": amount if granted else None,
                    "amount_paid": amount if fr_state == "paid" else Decimal("0.00"),
                    "granted_on": complete_on + dt.timedelta(days=30) if granted else None,
                    "committed_on": complete_on + dt.timedelta(days=45)
                    if fr_state in ("committed", "paying", "paid")
                    else None,
                    "motivation": "Hors critères." if fr_state == "refused" else "",
                    "created_at": submit_at,
                }
            )
            source = "requested"
            at = submit_at
            for name, target in fr_path:
                at = at + dt.timedelta(days=rnd.randint(3, 40))
                logs.append(
                    {
                        "timestamp": min(at, now),
                        "by_id": agent.pk,
                        "source_state": source,
                        "state": target,
                        "transition": name,
                        "content_type_id": ct_fr,
                        "object_id": fpk,
                        "description": None,
                    }
                )
                source = target
            open_kind = {
                "instruction": "implicit_decision",
                "decided": "works_start",
                "in_progress": "works_completion",
                "completed": "balance_claim",
            }.get(state)
            if open_kind:
                deadlines.append(
                    {
                        "kind": open_kind,
                        "subject_type_id": ct_fr,
                        "subject_id": fpk,
                        "aggregate_id": pk,
                        "due_on": today + dt.timedelta(days=rnd.randint(1, 700)),
                        "party": "agent" if open_kind == "implicit_decision" else "porteur",
                        "state": "open",
                        "expiry_transition": "lapse" if open_kind == "works_start" else "",
                        "opened_at": at,
                    }
                )
            if fr_state in ("paying", "paid"):
                cpk = claim_id
                claim_id += 1
                filed = (works_end or today) - dt.timedelta(days=5)
                paid = fr_state == "paid"
                claims.append(
                    {
                        "id": cpk,
                        "funding_request_id": fpk,
                        "kind": "balance",
                        "amount": amount,
                        "filed_on": filed,
                        "state": "paid" if paid else "filed",
                        "paid_amount": amount if paid else None,
                        "paid_on": filed + dt.timedelta(days=70) if paid else None,
                        "verified_on": filed + dt.timedelta(days=30) if paid else None,
                        "created_by_id": porteur_id,
                        "created_at": dt.datetime.combine(filed, dt.time(10), dt.UTC),
                    }
                )
                logs.append(
                    {
                        "timestamp": dt.datetime.combine(filed, dt.time(10), dt.UTC),
                        "by_id": porteur_id,
                        "source_state": "draft",
                        "state": "filed",
                        "transition": "file",
                        "content_type_id": ct_claim,
                        "object_id": cpk,
                        "description": None,
                    }
                )
                if paid:
                    payments.append(
                        {
                            "claim_id": cpk,
                            "scheme_id": schemes[c].pk,
                            "amount": amount,
                            "paid_on": filed + dt.timedelta(days=70),
                            "delay_days": 70,
                            "recorded_by_id": agent.pk,
                            "recorded_at": dt.datetime.combine(
                                filed + dt.timedelta(days=70), dt.time(10), dt.UTC
                            ),
                        }
                    )

    # Pool for the transitions of the load test: submitted dossiers whose documents were
    # uploaded "later" (so that provide_documents' guard always sees a fresh piece).
    pool = {}
    for epci_id, ids in pool_candidates.items():
        pool[epci_id] = ids[:pool_per_epci]
        for pk in pool[epci_id]:
            documents.append(
                {
                    "case_id": pk,
                    "kind": "other",
                    "label": "Pièce complémentaire",
                    "file": f"dossiers/{pk}/complement.pdf",
                    "filename": "complement.pdf",
                    "size": 2048,
                    "content_type": "application/pdf",
                    "sha256": "1" * 64,
                    "uploaded_by_id": None,
                    "uploaded_at": far,
                }
            )

    counts = {}
    with transaction.atomic():
        counts["cases"] = _copy_model(Case, cases)
        counts["case communes"] = _copy(
            Case.communes.through._meta.db_table, ["case_id", "commune_id"], through
        )
        counts["expense lines"] = _copy_model(ExpenseLine, expenses)
        counts["resource lines"] = _copy_model(ResourceLine, resources)
        counts["funding requests"] = _copy_model(FundingRequest, frs)
        counts["payment claims"] = _copy_model(PaymentClaim, claims)
        counts["payments"] = _copy_model(Payment, payments)
        counts["deadlines"] = _copy_model(Deadline, deadlines)
        counts["history (StateLog)"] = _copy_model(StateLog, logs)
        counts["documents"] = _copy_model(Document, documents)
        _reset_sequences(
            Case,
            FundingRequest,
            PaymentClaim,
            Payment,
            Deadline,
            StateLog,
            Document,
            ExpenseLine,
            ResourceLine,
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    t_copy = time.perf_counter() - t0
    print("  " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" — {t_copy:.0f} s")

    # ------------------------------------------------------------ agent tasks (sample)
    t1 = time.perf_counter()
    live = [
        pk
        for s in ("submitted", "incomplete", "instruction", "decided", "scoping")
        for pk in by_state.get(s, [])
    ]
    pool_ids = {pk for ids in pool.values() for pk in ids}
    sample = [pk for pk in rnd.sample(live, min(tasks_sample, len(live))) if pk not in pool_ids]
    for pk in sample:
        case_tasks_sync(pk)
    print(
        f"  agent tasks of {len(sample)} live dossiers (viewflow, through case_tasks_sync): {time.perf_counter() - t1:.0f} s"
    )

    # ------------------------------------------------------------ tokens and sessions
    users = list(agents.values())
    busiest = sorted(by_org, key=lambda o: -len(by_org[o]))
    porteur_orgs = busiest[:6] + rnd.sample(busiest[6:300], 10)
    users += list(User.objects.filter(organisation_id__in=porteur_orgs, role="porteur"))
    pool_porteurs = {porteur_of[c["organisation_id"]] for c in cases if c["id"] in pool_ids}
    users += list(User.objects.filter(pk__in=pool_porteurs))
    tokens, sessions = {}, {}
    for u in {u.pk: u for u in users}.values():
        tokens[u.pk] = Token.objects.get_or_create(user=u)[0].key
        store = SessionStore()
        store["_auth_user_id"] = str(u.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = u.get_session_auth_hash()
        store.set_expiry(24 * 3600)
        store.create()
        sessions[u.pk] = store.session_key
    case_org = {c["id"]: c["organisation_id"] for c in cases if c["id"] in pool_ids}
    return {
        "n": n,
        "agents": [
            {"id": u.pk, "epci": e, "siren": u.username.rsplit(".", 1)[-1]}
            for e, u in agents.items()
        ],
        "porteurs": [{"id": porteur_of[o], "org": o, "cases": by_org[o]} for o in porteur_orgs],
        "pool": {
            str(e): [{"case": pk, "porteur": porteur_of[case_org[pk]]} for pk in ids]
            for e, ids in pool.items()
        },
        "tokens": {str(k): v for k, v in tokens.items()},
        "sessions": {str(k): v for k, v in sessions.items()},
        "instruction_cases": by_state.get("instruction", [])[:2000],
        "load_seconds": time.perf_counter() - t0,
    }
