"""The rows of one loaded dossier, in the shapes the services produce: the dossier, its
plan lines, its history, documents, deadlines, funding requests, claims and payments.

``dossier_rows`` draws from the loader's random generator in a fixed order (the same seed
gives the same database) and appends to a ``Rows``."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from load_paths import FR_PATHS, OBJECTS, PATHS, PRIVATE_SCHEMES, PUBLIC_SCHEMES, THEMES, WORDS

PORTEUR_TRANSITIONS = (
    "open_application",
    "submit",
    "provide_documents",
    "withdraw",
    "start_works",
    "complete_works",
)
SYSTEM_TRANSITIONS = ("record_decisions", "close", "lapse")
# The deadline left open on each funding request, by the dossier's state.
OPEN_KIND = {
    "instruction": "implicit_decision",
    "decided": "works_start",
    "in_progress": "works_completion",
    "completed": "balance_claim",
}


@dataclass
class World:
    """What every dossier's rows refer to (reference data, accounts, content types)."""

    rnd: random.Random
    now: dt.datetime
    today: dt.date
    schemes: dict
    docs_of: dict
    communes: list
    prefixes: dict
    ct_case: int
    ct_fr: int
    ct_claim: int
    agents: dict
    porteur_of: dict
    format_reference: object


@dataclass
class Rows:
    """Rows to COPY (one batch of dossiers at a time), the next ids, and the indexes the
    manifest is made from (case ids only)."""

    fr_id: int
    claim_id: int
    tables: dict[str, list] = field(default_factory=dict)
    by_org: dict[int, list[int]] = field(default_factory=dict)
    by_state: dict[str, list[int]] = field(default_factory=dict)
    pool_candidates: dict[int, list[int]] = field(default_factory=dict)

    def add(self, table: str, row) -> None:
        self.tables.setdefault(table, []).append(row)

    def __getitem__(self, table: str) -> list:
        return self.tables.get(table, [])

    def drain(self) -> dict[str, list]:
        """The rows made since the last drain, handed over and forgotten (the loader
        COPYs them a batch at a time; only the indexes are kept)."""
        tables, self.tables = self.tables, {}
        return tables


@dataclass
class Dossier:
    """One dossier's drawn values."""

    pk: int
    org: object
    state: str
    created: dt.datetime
    agent: object
    porteur_id: int
    codes: list[str]
    aid: list[tuple[str, Decimal]]
    total: Decimal
    events: list[tuple[str, str, dt.datetime]]

    def on(self, transition: str) -> dt.datetime | None:
        return next((at for name, _, at in self.events if name == transition), None)

    def day_of(self, transition: str) -> dt.date | None:
        at = self.on(transition)
        return at.date() if at else None


def draw(w: World, pk: int, org, state: str) -> Dossier:
    """Creation time, schemes and amounts, event times along the state's path."""
    rnd = w.rnd
    created = w.now - dt.timedelta(days=rnd.randint(60, 2200), minutes=rnd.randint(0, 1440))
    public = org.kind in ("commune", "epci")
    code = rnd.choice(PUBLIC_SCHEMES if public else PRIVATE_SCHEMES)
    codes = [code] + (["DEPT_TARN"] if public and rnd.random() < 0.2 else [])
    total = Decimal(rnd.randrange(20_000, 2_000_000, 500))
    rate = Decimal(rnd.choice(["0.30", "0.35", "0.40", "0.50"]))
    aid = [
        (c, (total * (rate if j == 0 else Decimal("0.10"))).quantize(Decimal("1")))
        for j, c in enumerate(codes)
    ]
    # event dates along the path, every few weeks
    t, events = created, []
    for name, target in PATHS[state]:
        t = t + dt.timedelta(days=rnd.randint(5, 60))
        events.append((name, target, min(t, w.now - dt.timedelta(days=1))))
    return Dossier(
        pk=pk,
        org=org,
        state=state,
        created=created,
        agent=w.agents[org.epci_id],
        porteur_id=w.porteur_of[org.pk],
        codes=codes,
        aid=aid,
        total=total,
        events=events,
    )


def dossier_rows(w: World, rows: Rows, pk: int, org, state: str) -> None:
    d = draw(w, pk, org, state)
    case_row(w, rows, d)
    plan_rows(w, rows, d)
    history_rows(w, rows, d)
    if d.day_of("submit") is None:
        return
    document_rows(w, rows, d)
    case_deadline_rows(w, rows, d)
    for c, amount in d.aid:
        request_rows(w, rows, d, c, amount)


def case_row(w: World, rows: Rows, d: Dossier) -> None:
    org, state, pk, rnd = d.org, d.state, d.pk, w.rnd
    receipt = d.day_of("submit")
    title = f"{rnd.choice(WORDS)} {rnd.choice(OBJECTS)} — {org.name}"[:300]
    rows.add(
        "cases",
        {
            "id": pk,
            "reference": w.format_reference(
                w.prefixes.get(org.territory_id, ""), d.created.year, pk, digits=6
            ),
            "title": title,
            "description": "Projet chargé pour le test de charge.",
            "theme": rnd.choice(THEMES),
            "organisation_id": org.pk,
            "epci_id": org.epci_id,
            "territory_id": org.territory_id,
            "referent_agent_id": d.agent.pk if receipt else None,
            "state": state,
            "receipt_date": receipt,
            "complete_on": d.day_of("declare_complete"),
            "works_start_date": d.day_of("start_works"),
            "works_end_date": d.day_of("complete_works"),
            "missing_documents": ["Plan de situation"] if state == "incomplete" else [],
            "documents_requested_at": requested_at(d),
            "withdraw_reason": "Projet abandonné." if state == "withdrawn" else "",
            "created_by_id": d.porteur_id,
            "created_at": d.created,
            "updated_at": d.events[-1][2] if d.events else d.created,
        },
    )
    rows.by_org.setdefault(org.pk, []).append(pk)
    rows.by_state.setdefault(state, []).append(pk)
    if state == "submitted":
        rows.pool_candidates.setdefault(org.epci_id, []).append(pk)
    rows.add("through", (pk, org.commune_id or rnd.choice(w.communes).pk))


def requested_at(d: Dossier) -> dt.datetime | None:
    return d.events[-1][2] if d.state == "incomplete" else None


def plan_rows(w: World, rows: Rows, d: Dossier) -> None:
    """Works and studies; a resource line per scheme and the porteur's own funds."""
    studies = (d.total * Decimal("0.1")).quantize(Decimal("1"))
    for position, (label, amount) in enumerate(
        [("Travaux", d.total - studies), ("Études et maîtrise d'œuvre", studies)]
    ):
        rows.add(
            "expenses",
            {
                "case_id": d.pk,
                "position": position,
                "label": label,
                "amount": amount,
                "tax": "HT",
                "eligible": True,
            },
        )
    lines = [(w.schemes[c].pk, "scheme", amount) for c, amount in d.aid]
    lines.append((None, "self", d.total - sum(a for _, a in d.aid)))
    for position, (scheme_id, kind, amount) in enumerate(lines):
        rows.add(
            "resources",
            {
                "case_id": d.pk,
                "position": position,
                "kind": kind,
                "scheme_id": scheme_id,
                "label": "",
                "amount": amount,
            },
        )


def log_row(rows: Rows, *, at, by, source, target, transition, ct, pk) -> None:
    rows.add(
        "logs",
        {
            "timestamp": at,
            "by_id": by,
            "source_state": source,
            "state": target,
            "transition": transition,
            "content_type_id": ct,
            "object_id": pk,
            "description": None,
        },
    )


def history_rows(w: World, rows: Rows, d: Dossier) -> None:
    """The dossier's path from ``idea``, each step by its porteur, agent or the system."""
    source = "idea"
    for name, target, at in d.events:
        by = (
            d.porteur_id
            if name in PORTEUR_TRANSITIONS
            else (None if name in SYSTEM_TRANSITIONS else d.agent.pk)
        )
        log_row(
            rows, at=at, by=by, source=source, target=target, transition=name, ct=w.ct_case, pk=d.pk
        )
        source = target


def document_rows(w: World, rows: Rows, d: Dossier) -> None:
    """The documents the schemes ask for (metadata only: no file is written)."""
    for k in sorted({k for c in d.codes for k in w.docs_of[c]}):
        rows.add(
            "documents",
            {
                "case_id": d.pk,
                "kind": k,
                "label": "",
                "file": f"dossiers/{d.pk}/{k}.pdf",
                "filename": f"{k}.pdf",
                "size": 20480,
                "content_type": "application/pdf",
                "sha256": "0" * 64,
                "uploaded_by_id": d.porteur_id,
                "uploaded_at": d.on("submit"),
            },
        )


def case_deadline_rows(w: World, rows: Rows, d: Dossier) -> None:
    """The completeness deadline, met or open (suspended while documents are awaited),
    and the porteur's documents deadline of an incomplete dossier."""
    receipt, submit_at, pending = d.day_of("submit"), d.on("submit"), d.state
    common = {"kind": "completeness", "subject_type_id": w.ct_case, "subject_id": d.pk}
    common |= {"aggregate_id": d.pk, "party": "agent", "expiry_transition": "declare_complete"}
    if pending in ("submitted", "incomplete"):
        due = max(
            receipt + dt.timedelta(days=61), w.today + dt.timedelta(days=w.rnd.randint(5, 60))
        )
        row = {
            "due_on": due,
            "state": "suspended" if pending == "incomplete" else "open",
            "days_left_when_suspended": 30 if pending == "incomplete" else None,
            "opened_at": submit_at,
        }
    else:
        row = {
            "due_on": receipt + dt.timedelta(days=61),
            "state": "met",
            "opened_at": submit_at,
            "closed_at": submit_at + dt.timedelta(days=20),
        }
    rows.add("deadlines", {**common, **row})
    if pending == "incomplete":
        rows.add(
            "deadlines",
            {
                "kind": "documents",
                "subject_type_id": w.ct_case,
                "subject_id": d.pk,
                "aggregate_id": d.pk,
                "due_on": w.today + dt.timedelta(days=w.rnd.randint(1, 60)),
                "party": "porteur",
                "state": "open",
                "opened_at": requested_at(d),
            },
        )


def request_rows(w: World, rows: Rows, d: Dossier, code: str, amount: Decimal) -> None:
    """A funding request in the state matching the dossier's, its history, the deadline
    of its current step, and its balance claim once paying."""
    fr_path = FR_PATHS.get(d.state, [])
    fpk = rows.fr_id
    rows.fr_id += 1
    fr_state = fr_path[-1][1] if fr_path else "requested"
    granted = fr_state in ("granted", "committed", "paying", "paid", "lapsed")
    complete_on, submit_at = d.day_of("declare_complete"), d.on("submit")
    rows.add(
        "frs",
        {
            "id": fpk,
            "case_id": d.pk,
            "scheme_id": w.schemes[code].pk,
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
        },
    )
    source, at = "requested", submit_at
    for name, target in fr_path:
        at = at + dt.timedelta(days=w.rnd.randint(3, 40))
        log_row(
            rows,
            at=min(at, w.now),
            by=d.agent.pk,
            source=source,
            target=target,
            transition=name,
            ct=w.ct_fr,
            pk=fpk,
        )
        source = target
    open_kind = OPEN_KIND.get(d.state)
    if open_kind:
        rows.add(
            "deadlines",
            {
                "kind": open_kind,
                "subject_type_id": w.ct_fr,
                "subject_id": fpk,
                "aggregate_id": d.pk,
                "due_on": w.today + dt.timedelta(days=w.rnd.randint(1, 700)),
                "party": "agent" if open_kind == "implicit_decision" else "porteur",
                "state": "open",
                "expiry_transition": "lapse" if open_kind == "works_start" else "",
                "opened_at": at,
            },
        )
    if fr_state in ("paying", "paid"):
        claim_rows(w, rows, d, fpk, code, amount, paid=fr_state == "paid")


def claim_rows(w: World, rows: Rows, d: Dossier, fpk: int, code: str, amount, *, paid: bool):
    """The balance claim, filed (and paid, 70 days later, for a paid request)."""
    cpk = rows.claim_id
    rows.claim_id += 1
    filed = (d.day_of("complete_works") or w.today) - dt.timedelta(days=5)
    filed_at = dt.datetime.combine(filed, dt.time(10), dt.UTC)
    rows.add(
        "claims",
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
            "created_by_id": d.porteur_id,
            "created_at": filed_at,
        },
    )
    log_row(
        rows,
        at=filed_at,
        by=d.porteur_id,
        source="draft",
        target="filed",
        transition="file",
        ct=w.ct_claim,
        pk=cpk,
    )
    if paid:
        rows.add(
            "payments",
            {
                "claim_id": cpk,
                "scheme_id": w.schemes[code].pk,
                "amount": amount,
                "paid_on": filed + dt.timedelta(days=70),
                "delay_days": 70,
                "recorded_by_id": d.agent.pk,
                "recorded_at": dt.datetime.combine(
                    filed + dt.timedelta(days=70), dt.time(10), dt.UTC
                ),
            },
        )
