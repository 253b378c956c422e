"""Each funder's own legal track in the demo (domain.md, revised rules 1-7; ADR 009): the
préfecture acknowledges its requests a few weeks after the desk's deposit and declares
them complete on its own date, a start-of-works deadline is extended, balances are
computed on the actual eligible cost and an overpaid grant gets a recovery order.

Every step is a service or a transition, as a user would make it; the dates are computed
from the dossier's timeline (no random draw here: the other stages' draws are unchanged).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .. import builders, payments, services
from ..builders import fresh, transition
from ..models import Extension, FundingRequest, PaymentClaim
from ..services.payments import recovery_order_issue
from ..works_deadlines import extension_max_until, works_deadline
from .timeline import money, working_day_before

#: The actual eligible cost of the operations whose balance is computed on it, as a share
#: of the planned one, by the rank of the « closed » operation: the second is a little
#: cheaper than planned; the first much cheaper, after advance and installment were paid
#: on 80 % of the grant (what was paid beyond the amount finally due is ordered back).
ACTUAL_COST_SHARE = {1: Decimal("0.75"), 2: Decimal("0.92")}


def received_by_prefecture(fr: FundingRequest) -> bool:
    """The requests whose funder records its own receipt here: the State's (DETR, DSIL,
    Fonds vert), instructed by the préfecture, not by the desk."""
    return fr.scheme.funder.is_state and not fr.scheme.desk_instructs


class LegalTrack:
    """Mixed into ``DemoBuilder``."""

    # -- revised rules 1-3: the préfecture's receipt and completeness --------------

    def prefecture_receipt_day(self, op, cap: dt.date) -> dt.date:
        """Three to five weeks after the desk's deposit (the desk sends the request, the
        préfecture records it), never after ``cap``."""
        day = working_day_before(op.dates["receipt"] + dt.timedelta(days=21 + op.nth * 4 % 15))
        return max(op.dates["receipt"], min(day, cap))

    def prefecture_acknowledges(self, op, cap: dt.date) -> None:
        for fr in self.requests(op.case):
            if received_by_prefecture(fr) and fr.received_on is None:
                builders.request_acknowledge_on(
                    fr,
                    instructor=self.instructor(fr),
                    received=self.prefecture_receipt_day(op, cap),
                )

    def requests_to_instruction(self, op) -> None:
        """After the desk's completeness: the préfecture's requests, received weeks after
        the deposit, declared complete on its own date (their implicit-decision date runs
        from it); the others put in instruction on the desk's date, as before."""
        d, complete = op.dates, op.dates["complete"]
        self.prefecture_acknowledges(op, cap=complete)
        own = working_day_before(complete + dt.timedelta(days=10 + op.nth % 10))
        own = max(complete, min(own, d["grant"], self.today - dt.timedelta(days=1)))
        for fr in self.requests(op.case):
            instructor = self.instructor(fr)
            if received_by_prefecture(fr):
                transition(
                    fr,
                    "declare_complete",
                    actor=instructor,
                    comment="Demande complète pour la préfecture.",
                    date=own,
                )
                continue
            if fr.received_on is None:
                builders.request_acknowledge_on(fr, instructor=instructor, received=d["receipt"])
            transition(fr, "start_instruction", actor=instructor, date=complete)

    def submitted_received(self, op) -> None:
        """A dossier filed more than five weeks ago: the préfecture has received its
        request, the desk has not yet checked the dossier."""
        if op.dates["receipt"] <= self.today - dt.timedelta(days=36):
            self.prefecture_acknowledges(op, cap=self.today - dt.timedelta(days=1))

    # -- revised rule 5: an extension of the start-of-works deadline ------------------

    def works_start_extended(self, op) -> None:
        """The porteur asks, before the deadline, to move the start of works by the year
        the scheme allows once; the préfecture grants it with its motivation. (The
        services date the request and the decision on the day they are recorded.)"""
        for fr in self.requests(op.case):
            kind = Extension.Deadline.WORKS_START
            deadline = works_deadline(fr, kind)
            if not received_by_prefecture(fr) or deadline is None:
                continue
            extension = services.extension_request(
                actor=op.porteur,
                funding_request=fresh(fr),
                deadline=kind,
                until=extension_max_until(fr, kind, deadline.due_on),
                reason="Appel d'offres infructueux pour le lot gros œuvre : la consultation "
                "est relancée et les travaux ne pourront commencer avant l'échéance.",
                today=self.today,
            )
            transition(
                extension,
                "grant",
                actor=self.instructor(fr),
                motivation="Prorogation d'un an accordée (CGCT R2334-28) : la relance de la "
                "consultation des entreprises est justifiée et le plan de financement inchangé.",
            )

    # -- revised rule 6: balance on the actual cost, recovery of an overpayment ------

    def actual_cost_share(self, op) -> Decimal | None:
        return ACTUAL_COST_SHARE.get(op.nth) if op.target == "closed" else None

    def installments_before_completion(self, op) -> None:
        """Installments up to the scheme's cap before the balance (80 % for DETR), for
        the operation whose actual cost ends far below the planned one."""
        if self.actual_cost_share(op) is None or op.nth != 1:
            return
        d = op.dates
        filed = d["adv_paid"] + (d["completion"] - d["adv_paid"]) // 2
        for fr in self.requests(op.case):
            fr = fresh(fr)
            amount = money(fr.amount_granted * fr.scheme.installments_max_rate) - fr.amount_paid
            if amount <= 0:
                continue
            self.pay_claim(
                fr,
                op.porteur,
                PaymentClaim.Kind.INSTALLMENT,
                amount,
                working_day_before(filed),
                working_day_before(filed + dt.timedelta(days=12)),
                working_day_before(filed + dt.timedelta(days=30)),
            )

    def balance_on_actual_cost(self, op, share: Decimal) -> None:
        """Each request's balance on the actual eligible cost: what remains of the amount
        finally due (nothing when more was paid already, settled at once), then a recovery
        order for what was paid beyond it, recovered after."""
        d = op.dates
        actual = money(payments.planned_eligible_cost(self.requests(op.case)[0]) * share)
        for fr in self.requests(op.case):
            fr = fresh(fr)
            planned = payments.planned_eligible_cost(fr)
            due = payments.amount_finally_due(fr.amount_granted, planned, actual)
            amount = max(due - fr.amount_paid, Decimal(0))
            self.pay_claim(
                fr,
                op.porteur,
                PaymentClaim.Kind.BALANCE,
                amount,
                d["bal_filed"],
                d["bal_verified"],
                d["bal_paid"] if amount else None,
                actual_cost=actual,
            )
            self.recover_overpayment(fresh(fr), d["bal_verified"], d["bal_paid"])

    def recover_overpayment(self, fr: FundingRequest, issued: dt.date, recovered: dt.date):
        excess = payments.overpaid(fr)
        if not excess:
            return
        instructor = self.instructor(fr)
        order = recovery_order_issue(
            actor=instructor,
            funding_request=fr,
            data={
                "amount": str(excess),
                "date": issued.isoformat(),
                "reason": "Coût éligible réalisé inférieur au coût prévu : l'avance et les "
                "acomptes versés dépassent le montant finalement dû (CGCT R2334-31).",
            },
        )
        transition(order, "recover", actor=instructor, date=recovered)
