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

The loader streams: dossiers are made and COPYed ``batch`` (10,000) at a time, in one
transaction, so that only one batch's rows are held (building them all first held
7.6 GB at 1,000,000 dossiers); only the case ids per organisation and per state are kept
for the manifest. The peak RSS and the time are printed. The rows of one dossier are made
in ``load_rows.py``, written by ``load_copy.py``; the proportions and paths are in
``load_paths.py``. The same seed gives the same rows in the same order (hence the same
ids) as the loader that built everything first.

``build(n)`` needs Django set up on the scratch database; it returns a manifest (users,
tokens, session keys, case ids per organisation, pools) for ``bench/load.py``.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import time

from load_copy import ModelCopy, copy_rows, next_id, reset_sequences
from load_paths import PASSWORD, STATE_WEIGHTS
from load_rows import Rows, World, dossier_rows

BATCH = 10_000  # dossiers made, then COPYed, at a time


def build(
    n: int,
    *,
    seed: int = 2026,
    pool_per_epci: int = 400,
    tasks_sample: int = 1000,
    batch: int = BATCH,
):
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    w, orgs = world(rnd)
    rows, pool = write(w, orgs, n, pool_per_epci, batch, t0)
    pool_ids = {pk for ids in pool.values() for pk in ids}
    agent_tasks(rnd, rows, pool_ids, tasks_sample)
    return manifest(w, rows, pool, pool_ids, n, t0)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux: ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the steps


def world(rnd: random.Random) -> tuple[World, list]:
    """Reference data, then the organisations and their accounts."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case, FundingRequest, PaymentClaim
    from schemes.models import EPCI, Commune, Scheme, Territory

    schemes = {s.code: s for s in Scheme.objects.all()}
    communes = list(Commune.objects.select_related("epci"))
    epcis = list(EPCI.objects.all())
    ct = ContentType.objects.get_for_models(Case, FundingRequest, PaymentClaim)
    orgs, agents, porteur_of = people(rnd, communes, epcis, make_password(PASSWORD))
    w = World(
        rnd=rnd,
        now=dt.datetime.now(dt.UTC),
        today=dt.date.today(),
        schemes=schemes,
        docs_of={code: s.required_document_codes() for code, s in schemes.items()},
        communes=communes,
        prefixes=dict(Territory.objects.values_list("pk", "reference_prefix")),
        ct_case=ct[Case].pk,
        ct_fr=ct[FundingRequest].pk,
        ct_claim=ct[PaymentClaim].pk,
        agents=agents,
        porteur_of=porteur_of,
        format_reference=Territory.format_reference,
    )
    return w, orgs


def people(rnd, communes, epcis, hashed) -> tuple[list, dict, dict]:
    """Communes, EPCI, 1,900 associations and 1,000 companies, each with its porteur;
    one agent per EPCI."""
    from cases.models import Organisation, User

    def located(name, kind, c):
        return Organisation(
            name=name, kind=kind, commune=c, epci=c.epci, territory_id=c.epci.territory_id
        )

    orgs = [located(f"Commune de {c.name}", "commune", c) for c in communes]
    orgs += [
        Organisation(name=e.name, kind="epci", epci=e, territory_id=e.territory_id) for e in epcis
    ]
    for i in range(1900):
        c = rnd.choice(communes)
        orgs.append(located(f"Association {i:04d} de {c.name}", "association", c))
    for i in range(1000):
        c = rnd.choice(communes)
        orgs.append(located(f"SARL {i:04d} ({c.name})", "company", c))
    Organisation.objects.bulk_create(orgs, batch_size=2000)
    orgs = list(Organisation.objects.order_by("pk"))
    User.objects.bulk_create(
        User(
            username=f"bench.agent.{e.siren}",
            role="agent",
            epci=e,
            territory_id=e.territory_id,
            password=hashed,
        )
        for e in epcis
    )
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
    print(f"  organisations and users: {len(orgs)} orgs, {len(porteurs) + len(agents)} users")
    return orgs, agents, porteur_of


def dossiers(w: World, orgs: list, n: int, batch: int, flush) -> Rows:
    """``n`` dossiers, handed to ``flush`` ``batch`` at a time; communes and EPCI file far
    more than associations."""
    from cases.models import Case, FundingRequest, PaymentClaim

    weights = [40 if o.kind == "commune" else 60 if o.kind == "epci" else 1 for o in orgs]
    case_id = next_id(Case)
    rows = Rows(fr_id=next_id(FundingRequest), claim_id=next_id(PaymentClaim))
    # drawn for all n first, as before streaming: the same seed gives the same data set
    org_choice = w.rnd.choices(orgs, weights=weights, k=n)
    state_choice = w.rnd.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()), k=n)
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        for i in range(start, min(n, start + batch)):
            dossier_rows(w, rows, case_id + i, org_choice[i], state_choice[i])
        flush(rows)
        done = min(n, start + batch)
        if done % 100_000 == 0 and done < n:
            print(
                f"  {done:,} dossiers written, {time.perf_counter() - t0:.0f} s, "
                f"peak RSS {peak_rss_mb():.0f} MB",
                flush=True,
            )
    return rows


def set_pool_aside(rows: Rows, pool_per_epci: int) -> dict[int, list[int]]:
    """Pool for the transitions of the load test: submitted dossiers whose documents were
    uploaded "later" (so that provide_documents' guard always sees a fresh piece)."""
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    pool = {}
    for epci_id, ids in rows.pool_candidates.items():
        pool[epci_id] = ids[:pool_per_epci]
        for pk in pool[epci_id]:
            rows.add(
                "documents",
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
                },
            )
    return pool


TABLES = [  # in the order of their foreign keys
    ("cases", "cases"),
    ("expense lines", "expenses"),
    ("resource lines", "resources"),
    ("funding requests", "frs"),
    ("payment claims", "claims"),
    ("payments", "payments"),
    ("deadlines", "deadlines"),
    ("history (StateLog)", "logs"),
    ("documents", "documents"),
]


class Writer:
    """COPY of each batch's rows, table after table; counts kept."""

    def __init__(self):
        from django_fsm_log.models import StateLog

        from cases.models import (
            Case,
            Document,
            ExpenseLine,
            FundingRequest,
            Payment,
            PaymentClaim,
            ResourceLine,
        )
        from engine.models import Deadline

        models = {
            "cases": Case,
            "expenses": ExpenseLine,
            "resources": ResourceLine,
            "frs": FundingRequest,
            "claims": PaymentClaim,
            "payments": Payment,
            "deadlines": Deadline,
            "logs": StateLog,
            "documents": Document,
        }
        self.copies = {key: ModelCopy(models[key]) for _, key in TABLES}
        self.through = Case.communes.through._meta.db_table
        self.through_count = 0

    def flush(self, rows: Rows) -> None:
        tables = rows.drain()
        for _, key in TABLES:
            self.copies[key].write(tables.get(key, []))
            if key == "cases" and tables.get("through"):
                self.through_count += copy_rows(
                    self.through, ["case_id", "commune_id"], tables["through"]
                )

    def counts(self) -> dict[str, int]:
        counts = {label: self.copies[key].count for label, key in TABLES}
        counts["case communes"] = self.through_count
        return counts


def write(w: World, orgs: list, n: int, pool_per_epci: int, batch: int, t0: float):
    """Every row COPYed in one transaction, batch after batch (the foreign keys checked at
    each COPY, not queued to the commit), the pool's documents last, the sequences reset,
    the tables analysed."""
    from django.db import connection, transaction

    writer = Writer()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        rows = dossiers(w, orgs, n, batch, writer.flush)
        pool = set_pool_aside(rows, pool_per_epci)
        writer.flush(rows)
        reset_sequences(*(c.model for c in writer.copies.values()))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    t_copy = time.perf_counter() - t0
    counts = ", ".join(f"{v:,} {k}" for k, v in writer.counts().items())
    print(f"  {counts} — {t_copy:.0f} s, peak RSS {peak_rss_mb():.0f} MB", flush=True)
    return rows, pool


def agent_tasks(rnd, rows: Rows, pool_ids: set[int], tasks_sample: int) -> None:
    """The agent tasks (viewflow) of a sample of live dossiers, through the real service."""
    from workflows.agent_tasks import case_tasks_sync

    t1 = time.perf_counter()
    live = [
        pk
        for s in ("submitted", "incomplete", "instruction", "decided", "scoping")
        for pk in rows.by_state.get(s, [])
    ]
    sample = [pk for pk in rnd.sample(live, min(tasks_sample, len(live))) if pk not in pool_ids]
    for pk in sample:
        case_tasks_sync(pk)
    print(
        f"  agent tasks of {len(sample)} live dossiers (viewflow, through case_tasks_sync): "
        f"{time.perf_counter() - t1:.0f} s"
    )


def credentials(users) -> tuple[dict, dict]:
    """A token and a session for each account."""
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

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
    return tokens, sessions


def manifest(w: World, rows: Rows, pool, pool_ids, n: int, t0: float) -> dict:
    """Who the virtual users are (the agents, the busiest porteurs and a sample, the
    pool's porteurs), their credentials, the pool and the dossiers in instruction."""
    from cases.models import Case, User

    by_org, porteur_of = rows.by_org, w.porteur_of
    users = list(w.agents.values())
    busiest = sorted(by_org, key=lambda o: -len(by_org[o]))
    porteur_orgs = busiest[:6] + w.rnd.sample(busiest[6:300], 10)
    users += list(User.objects.filter(organisation_id__in=porteur_orgs, role="porteur"))
    case_org = dict(Case.objects.filter(pk__in=pool_ids).values_list("pk", "organisation_id"))
    users += list(User.objects.filter(pk__in={porteur_of[o] for o in case_org.values()}))
    tokens, sessions = credentials(users)
    return {
        "n": n,
        "agents": [
            {"id": u.pk, "epci": e, "siren": u.username.rsplit(".", 1)[-1]}
            for e, u in w.agents.items()
        ],
        "porteurs": [{"id": porteur_of[o], "org": o, "cases": by_org[o]} for o in porteur_orgs],
        "pool": {
            str(e): [{"case": pk, "porteur": porteur_of[case_org[pk]]} for pk in ids]
            for e, ids in pool.items()
        },
        "tokens": {str(k): v for k, v in tokens.items()},
        "sessions": {str(k): v for k, v in sessions.items()},
        "instruction_cases": rows.by_state.get("instruction", [])[:2000],
        "load_seconds": time.perf_counter() - t0,
    }
