"""Real objects in every state a write needs, built lazily through the services and the
engine (never a state written by hand): a fuzzed request reaches its guard, not a 404.

Each property builds its object the first time it is read, so a test pays only for what
its route needs. Shared by the API and the web-form fuzzers."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import builders, committee, services
from cases.models import Case, CommitteeSession, FundingRequest, PaymentClaim, User
from engine.transitions import transition_apply
from notifications.channels import notify_in_app
from notifications.models import Alert
from schemes.models import Scheme
from tests import factories as f
from tests.engine import walk
from tests.notifications.builders import at

PDF = b"%PDF-1.4\n%guichet fuzz\n"
GOOD_SCORES = {"ancrage": 4, "innovation": 3, "transition": 4}


def pdf(name: str = "piece.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class Bench:
    """People and objects. Dates: events happened in spring 2026 (walk's dates), sessions
    took place yesterday; ``today`` is the day the tests run."""

    def __init__(self):
        self.today = timezone.localdate()

    # ------------------------------------------------------------ people

    @cached_property
    def organisation(self):
        return f.OrganisationFactory()

    @cached_property
    def porteur(self) -> User:
        return f.porteur(organisation=self.organisation)

    @cached_property
    def agent(self) -> User:
        return f.agent()

    @cached_property
    def instructor(self) -> User:
        return walk.instructor_for("DETR")

    @cached_property
    def leader_instructor(self) -> User:
        return walk.instructor_for("LEADER")

    @cached_property
    def admin(self) -> User:
        return f.UserFactory(role=User.Role.ADMIN, is_superuser=True, is_staff=True)

    @cached_property
    def director(self) -> User:
        return f.UserFactory(role=User.Role.DIRECTOR)

    @cached_property
    def epci_partner(self) -> User:
        return f.UserFactory(role=User.Role.EPCI_PARTNER, epci=self.organisation.commune.epci)

    @cached_property
    def members(self) -> list[User]:
        return [
            f.committee_member("public"),
            f.committee_member("private", "agriculture"),
            f.committee_member("private", "tourisme"),
        ]

    @property
    def member(self) -> User:
        return self.members[0]

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)

    # ------------------------------------------------------------ dossiers

    def _case(self, plan=walk.DETR_PLAN, title="Rénovation de l'école", state="draft") -> Case:
        return builders.case_build(porteur=self.porteur, title=title, plan=plan, state=state)

    def _docs(self, case: Case) -> Case:
        return builders.case_documents_add(actor=self.porteur, case=case, content=walk.PDF)

    def _submit(self, case: Case, day="2026-03-02") -> Case:
        return builders.case_submit_on(case, porteur=self.porteur, receipt=day)

    def _complete(self, case: Case, day="2026-03-10") -> Case:
        builders.transition(case, "declare_complete", actor=self.agent, date=day)
        return Case.objects.get(pk=case.pk)

    def _instructing(self, plan=walk.DETR_PLAN, title="Rénovation") -> FundingRequest:
        case = self._complete(self._submit(self._docs(self._case(plan, title))))
        builders.requests_instruction_start(case, instructor=self.agent)
        return case.funding_requests.get()

    @cached_property
    def idea(self) -> Case:
        return builders.case_build(porteur=self.porteur, title="Une idée de halle")

    @cached_property
    def draft(self) -> Case:
        return self._docs(self._case())

    @cached_property
    def submitted(self) -> Case:
        return self._submit(self._docs(self._case(title="Toiture de la mairie")))

    @cached_property
    def incomplete(self) -> Case:
        """Documents asked for, one provided since: ready for ``provide_documents``."""
        case = self._submit(self._docs(self._case(title="Salle des fêtes")))
        transition_apply(
            instance=case,
            name="request_documents",
            actor=self.agent,
            data={"documents": ["Devis détaillé"], "date": "2026-03-05"},
        )
        services.document_upload(actor=self.porteur, case=case, kind="other", upload=pdf())
        return Case.objects.get(pk=case.pk)

    @cached_property
    def complete(self) -> FundingRequest:
        """A request of a complete dossier, instruction not started."""
        case = self._complete(self._submit(self._docs(self._case(title="Voirie"))))
        return case.funding_requests.get()

    @cached_property
    def acknowledged(self) -> FundingRequest:
        """A DETR request its préfecture received (revised rule 1), not yet complete."""
        case = self._submit(self._docs(self._case(title="Éclairage public")))
        return builders.request_acknowledge_on(
            case.funding_requests.get(), instructor=self.instructor, received="2026-03-04"
        )

    @cached_property
    def instructing(self) -> FundingRequest:
        return self._instructing()

    @cached_property
    def leader_instructing(self) -> FundingRequest:
        return self._instructing(walk.LEADER_PLAN, "Tiers-lieu")

    def _awaiting(self, title: str) -> FundingRequest:
        fr = self._instructing(walk.LEADER_PLAN, title)
        transition_apply(
            instance=fr, name="submit_to_committee", actor=self.agent, data={"pre_score": "14"}
        )
        return FundingRequest.objects.get(pk=fr.pk)

    def _session(self, day: dt.date | None = None) -> CommitteeSession:
        return committee.session_create(
            actor=self.agent,
            date=day or self.today - dt.timedelta(days=1),
            members=[m.pk for m in self.members],
            scheme=Scheme.objects.get(code="LEADER"),
        )

    @cached_property
    def adjourned(self) -> FundingRequest:
        """A LEADER request adjourned by a committee (no vote cast)."""
        fr = self._awaiting("Halle adjournée")
        session = self._session()
        transition_apply(instance=session, name="close", actor=self.agent)
        fr = FundingRequest.objects.get(pk=fr.pk)
        assert fr.state == "adjourned", fr.state
        return fr

    @cached_property
    def session(self) -> CommitteeSession:
        """A planned session, held yesterday, with a request on its agenda."""
        self.agenda_request = self._awaiting("Tiers-lieu au comité")
        session = self._session()
        assert list(session.agenda.values_list("pk", flat=True)) == [self.agenda_request.pk]
        return session

    @cached_property
    def granted(self) -> FundingRequest:
        return builders.request_grant_on(
            self.instructing, instructor=self.instructor, amount="40000.00", granted="2026-04-15"
        )

    def _granted(self, title: str) -> FundingRequest:
        return builders.request_grant_on(
            self._instructing(title=title),
            instructor=self.instructor,
            amount="40000.00",
            granted="2026-04-15",
        )

    @cached_property
    def extension(self):
        """An extension of the start of works, asked by the porteur (revised rule 5)."""
        return services.extension_request(
            actor=self.porteur,
            funding_request=self._granted("Halle du marché"),
            deadline="works_start",
            until=dt.date(2028, 9, 1),
            reason="Appel d'offres infructueux.",
        )

    @cached_property
    def missed_grant(self) -> FundingRequest:
        """A grant whose start-of-works deadline has passed: the sweep marked it missed."""
        from engine.models import Deadline
        from engine.sweep import sweep_expired

        fr = self._granted("Lavoir")
        Deadline.objects.filter(
            subject_type=ContentType.objects.get_for_model(FundingRequest),
            subject_id=fr.pk,
            kind="works_start",
        ).update(due_on=self.today - dt.timedelta(days=10))
        sweep_expired(today=self.today)
        return fr

    @cached_property
    def decided(self) -> Case:
        case = self.granted.case
        case.refresh_from_db()
        assert case.state == "decided", case.state
        return case

    @cached_property
    def works_started(self) -> Case:
        case = self._instructing(title="Médiathèque").case
        fr = case.funding_requests.get()
        walk.grant_and_commit(fr, amount="40000.00", instructor=self.instructor)
        builders.transition(case, "start_works", actor=self.porteur, date="2026-05-04")
        return Case.objects.get(pk=case.pk)

    @cached_property
    def committed(self) -> FundingRequest:
        fr = self._instructing(title="Crèche")
        return walk.grant_and_commit(fr, amount="40000.00", instructor=self.instructor)

    @cached_property
    def overpaid(self) -> FundingRequest:
        """A DETR grant paid 12 000 € whose balance, on 20 000 € actually spent of 100 000 €
        planned, leaves 8 000 € due: 4 000 € overpaid (revised rule 6)."""
        fr = self._instructing(title="Salle des fêtes")
        fr = walk.grant_and_commit(fr, amount="40000.00", instructor=self.instructor)
        advance = builders.claim_build(
            porteur=self.porteur, funding_request=fr, kind="advance", amount="12000.00"
        )
        advance = builders.claim_file_on(advance, porteur=self.porteur, filed="2026-05-02")
        advance = builders.claim_verify_on(
            advance, instructor=self.instructor, verified="2026-05-03"
        )
        builders.claim_pay_on(
            advance, instructor=self.instructor, amount="12000.00", paid="2026-05-03"
        )
        for name, day in (("start_works", "2026-05-04"), ("complete_works", "2026-05-05")):
            builders.transition(Case.objects.get(pk=fr.case_id), name, actor=self.porteur, date=day)
        balance = services.claim_create(
            actor=self.porteur,
            funding_request=FundingRequest.objects.get(pk=fr.pk),
            data={"kind": "balance", "amount": "0", "actual_cost": "20000.00"},
        )
        balance = builders.claim_file_on(balance, porteur=self.porteur, filed="2026-05-06")
        builders.claim_verify_on(balance, instructor=self.instructor, verified="2026-05-07")
        return FundingRequest.objects.get(pk=fr.pk)

    @cached_property
    def recovery_order(self):
        """An issued recovery order of 1 000 € on the overpaid grant."""
        from cases.services.payments import recovery_order_issue

        return recovery_order_issue(
            actor=self.instructor,
            funding_request=self.overpaid,
            data={"amount": "1000.00", "date": "2026-05-08", "reason": "Trop-perçu."},
        )

    def _claim(self, amount="1000.00") -> PaymentClaim:
        return builders.claim_build(
            porteur=self.porteur, funding_request=self.committed, kind="installment", amount=amount
        )

    @cached_property
    def draft_claim(self) -> PaymentClaim:
        return self._claim()

    @cached_property
    def filed_claim(self) -> PaymentClaim:
        return builders.claim_file_on(
            self._claim("2000.00"), porteur=self.porteur, filed="2026-06-01"
        )

    @cached_property
    def verified_claim(self) -> PaymentClaim:
        claim = builders.claim_file_on(
            self._claim("3000.00"), porteur=self.porteur, filed="2026-06-01"
        )
        return builders.claim_verify_on(claim, instructor=self.instructor, verified="2026-06-10")

    # ------------------------------------------------------------ notifications

    @cached_property
    def notification(self):
        return notify_in_app(
            user_id=self.porteur.pk, kind="test", message="Bonjour", dedup_key="fuzz"
        )

    @cached_property
    def alert(self) -> Alert:
        case = self.submitted
        return Alert.objects.create(
            kind=Alert.Kind.PAYMENT_OVERDUE,
            severity=Alert.Severity.WARNING,
            subject_type=ContentType.objects.get_for_model(Case),
            subject_id=case.pk,
            organisation=case.organisation,
            case=case,
            message="Paiement en retard.",
        )


__all__ = ["Bench", "at"]
