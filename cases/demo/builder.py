"""The demo builder: shared steps (a transition at an event's date, documents, claims) and
the order of the load (accounts, LEADER, the 2019 operations, one pass of the sweep)."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from schemes.models import Scheme, Territory

from .. import builders, services
from ..builders import fresh
from ..models import Case, FundingRequest, RequestState, User
from ..works_deadlines import missed_works_deadline
from .conference import conference_create
from .constants import PASSWORD, SCHEME_INSTRUCTOR
from .consultation import Consultation
from .leader import Leader
from .legal_track import LegalTrack
from .operations import Operations
from .pdf import tiny_pdf
from .people import People
from .programming import calls_create, envelopes_create
from .scenarios import scenarios_create
from .timeline import Report, aware, working_day_before
from .treasury import treasuries_declare

log = logging.getLogger(__name__)


class DemoBuilder(People, Leader, Consultation, LegalTrack, Operations):
    def __init__(self, *, today: dt.date | None = None, seed: int = 2019):
        self.today = today or timezone.localdate()
        self.rng = random.Random(seed)
        self.report = Report()
        self.users: dict[str, User] = {}
        self.schemes = {s.code: s for s in Scheme.objects.all()}
        self.password_hash = make_password(PASSWORD)

    # -- shared steps ------------------------------------------------------------

    def day(self, ago: int) -> dt.date:
        """The working day ``ago`` days before today (or the last one before it)."""
        return working_day_before(self.today - dt.timedelta(days=ago))

    def backdate(self, case: Case, day: dt.date) -> None:
        """The dossier was created on ``day``: its creation time and its reference say so."""
        created = aware(day, hour=10)
        reference = Territory.format_reference(
            Territory.prefix_of(case.territory_id), day.year, case.pk
        )
        Case.objects.filter(pk=case.pk).update(created_at=created, reference=reference)

    def upload(self, case: Case, actor: User, codes: list[str]) -> None:
        """The documents ``codes``, each a one-page PDF naming the dossier."""
        labels = {}
        for scheme in self.schemes.values():
            for doc in scheme.required_documents or []:
                labels[doc["code"]] = doc["label"]
        for code in codes:
            label = labels.get(code, "Pièce complémentaire")
            pdf = tiny_pdf(
                label,
                [
                    f"Dossier {case.reference or case.pk} : {case.title}",
                    f"Maître d'ouvrage : {case.organisation.name}",
                    "Document de démonstration généré par Guichet.",
                ],
            )
            builders.document_add(actor=actor, case=case, kind=code, content=pdf, label=label)

    def instructor(self, fr: FundingRequest) -> User:
        return self.users[SCHEME_INSTRUCTOR[fr.scheme.code]]

    def requests(self, case: Case) -> list[FundingRequest]:
        return list(case.funding_requests.select_related("scheme").order_by("id"))

    def pay_claim(
        self, fr, porteur, kind, amount, filed, verified=None, paid=None, actual_cost=None
    ) -> None:
        """A claim filed on ``filed``, verified and paid on the days given (if any); a
        balance may carry the actual eligible cost (a nil one is settled at its check)."""
        if actual_cost is None:
            claim = builders.claim_build(
                porteur=porteur, funding_request=fr, kind=kind, amount=amount, filed=filed
            )
        else:
            data = {"kind": kind, "amount": str(amount), "actual_cost": str(actual_cost)}
            data["filed_on"] = filed.isoformat()
            claim = services.claim_create(actor=porteur, funding_request=fresh(fr), data=data)
        claim = builders.claim_file_on(claim, porteur=porteur, filed=filed)
        if verified is None:
            return
        instr = self.instructor(fr)
        claim = builders.claim_verify_on(
            claim, instructor=instr, verified=verified, comment="Service fait contrôlé sur pièces."
        )
        if paid is None or claim.state != "verified":
            return
        builders.claim_pay_on(
            claim, instructor=instr, amount=amount, paid=paid, comment="Mandatement."
        )
        self.report.payments += 1

    def done(self, case: Case) -> Case:
        case = fresh(case)
        self.report.cases[case.state] += 1
        return case

    # -- the load ------------------------------------------------------------------

    def sweep(self) -> None:
        """One pass of the periodic jobs: missed deadlines, reminders, alerts — as in
        production."""
        from engine.periodic import run_all
        from engine.sweep import sweep_expired

        try:
            self.report.sweep = run_all(today=self.today)
        except Exception:  # a periodic job of another layer failed: keep the demo usable
            log.exception("periodic jobs failed during load_demo; running the sweep alone")
            self.report.sweep = {"expired_deadlines": sweep_expired(today=self.today)}

    def record_lapses(self) -> None:
        """After the sweep marked their start-of-works deadline missed, each funder records
        the lapse of its unused grants (the sweep never lapses: revised rule 5)."""
        granted = FundingRequest.objects.filter(
            state__in=[RequestState.GRANTED, RequestState.COMMITTED]
        ).select_related("scheme")
        for fr in granted.order_by("id"):
            deadline = missed_works_deadline(fr)
            if deadline is None:
                continue
            day = min(self.today, deadline.due_on + dt.timedelta(days=12))
            builders.transition(
                fr,
                "lapse",
                actor=self.instructor(fr),
                date=day,
                motivation="Travaux non commencés dans le délai de deux ans suivant la "
                "notification (CGCT R2334-28) ; aucune prorogation demandée.",
            )

    def run(self) -> Report:
        with transaction.atomic():
            self.build_users()
            self.build_leader()
            self.build_operations()
            treasuries_declare()
            envelopes_create()
            calls_create()
            conference_create()
            scenarios_create()
        self.sweep()
        with transaction.atomic():
            self.record_lapses()
        self.report.cases = Counter(Case.objects.values_list("state", flat=True))
        return self.report
