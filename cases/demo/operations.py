"""The 72 real DETR/DSIL operations of 2019, each brought to the state the distribution
gives it, one stage of a dossier's life at a time.

Each stage takes the dossier where the previous one left it and returns ``True`` when the
dossier stays there (its target state is reached). The random draws happen in the same
order as the stages, so the same seed gives the same demo."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from .. import builders, services
from ..builders import fresh, transition
from ..models import Case, Opinion, PaymentClaim, User
from ..rules import euros
from .constants import DATA, DISTRIBUTION, MULTI_FUNDER_STATES
from .timeline import Timeline, money


@dataclass
class Operation:
    """One operation on its way: the open-data row, its target state and rank among the
    operations of that target (which picks its variant), and what the stages made."""

    row: dict
    target: str
    nth: int
    case: Case = None
    porteur: User = None
    agent: User = None
    schemes: list[str] = field(default_factory=list)
    dates: dict[str, dt.date] = field(default_factory=dict)

    @property
    def variant(self) -> int:
        return self.nth % 3


def operation_description(row: dict, cost: Decimal) -> str:
    rate = Decimal(row["pct_sub"]) * 100
    return (
        f"{row['description'].strip()}.\n\nOpération réelle financée en 2019 au titre de "
        f"la {row['dotation']} (ANCT, projet {row['id_projet']}) : coût total "
        f"{euros(cost)}, subvention {euros(money(row['montant_sub']))} "
        f"({str(rate.quantize(Decimal('0.1'))).replace('.', ',')} %)."
    )


def timeline_of(op: Operation, today: dt.date, rng) -> dict[str, dt.date]:
    """The dates of every event up to the balance, anchored on the target's last event."""
    t = Timeline(today, rng)
    t.then("request_documents", 12, 25).then("provide_documents", 10, 20)
    t.then("complete", 15, 35).then("grant", 45, 100).then("commit", 10, 40)
    t.then("start", 25, 90).then("adv_filed", 10, 30).then("adv_verified", 8, 20)
    t.then("adv_paid", 20, 50).then("completion", 120, 240).then("bal_filed", 10, 40)
    t.then("bal_verified", 8, 20).then("bal_paid", 20, 70)
    variant, nth = op.variant, op.nth
    anchors = {
        "submitted": ("receipt", 5, 70),
        "incomplete": ("request_documents", 3, 25),
        "instruction": ("complete", 5, 55),
        "rejected": ("grant", 30, 300),
        # the fourth: signed long ago, its start-of-works deadline near (and extended)
        "decided": ("commit", 600, 640)
        if nth == 4
        else ("commit" if variant else "grant", 20, 300),
        "lapsed": ("grant", 760, 800),
        "withdrawn": ("complete" if nth == 2 else "commit", 40, 200),
        "in_progress": [("start", 20, 200), ("adv_paid", 10, 150), ("adv_filed", 95, 110)][variant],
        "completed": [("completion", 15, 90), ("bal_verified", 5, 25), ("bal_filed", 5, 30)][
            variant
        ],
        "closed": ("bal_paid", 10, 150),
    }
    return t.anchor(*anchors[op.target])


class Operations:
    """Mixed into ``DemoBuilder``."""

    def financing_plan(self, row: dict, multi: bool) -> tuple[dict, list[str]]:
        cost = money(row["cout_total"])
        subsidy = money(row["montant_sub"])
        scheme = row["dotation"]
        eligible = cost
        expenses = []
        if subsidy / cost < self.schemes[scheme].rate_min:
            # The 2019 subsidy was computed on part of the cost: the rest is not eligible.
            eligible = money(subsidy / Decimal("0.25"))
            expenses.append(
                {"label": "Travaux — part éligible", "amount": str(eligible), "tax": "HT"}
            )
            expenses.append(
                {
                    "label": "Travaux — part non retenue par l'État",
                    "amount": str(cost - eligible),
                    "tax": "HT",
                    "eligible": False,
                }
            )
        else:
            expenses.append({"label": "Travaux et équipements", "amount": str(cost), "tax": "HT"})
        resources = [{"kind": "scheme", "scheme": scheme, "amount": str(subsidy)}]
        schemes = [scheme]
        own = eligible - subsidy
        if multi:
            dept = money((eligible * Decimal("0.10")).quantize(Decimal("1")))
            resources.append({"kind": "scheme", "scheme": "DEPT_TARN", "amount": str(dept)})
            schemes.append("DEPT_TARN")
            own -= dept
        resources.append({"kind": "self", "amount": str(own), "label": "Fonds propres"})
        return {"expenses": expenses, "resources": resources}, schemes

    def build_operations(self) -> None:
        rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
        targets = [state for state, n in DISTRIBUTION.items() for _ in range(n)]
        assert len(targets) == len(rows), (len(targets), len(rows))
        self.rng.shuffle(targets)
        seen = Counter()
        for row, target in zip(rows, targets, strict=True):
            seen[target] += 1
            self.build_operation(row, target, seen[target])

    def build_operation(self, row: dict, target: str, nth: int) -> Case:
        op = self.op_create(Operation(row=row, target=target, nth=nth))
        stages = (
            self.op_upstream,
            self.op_draft,
            self.op_deposit,
            self.op_incomplete,
            self.op_complete,
            self.op_decision,
            self.op_agreement,
            self.op_works,
            self.op_completion,
            self.op_balance,
        )
        for stage in stages:
            if stage(op):
                break
        return self.done(op.case)

    # -- the stages, in the order of a dossier's life --------------------------------

    def op_create(self, op: Operation) -> Operation:
        """Created by its porteur in « idée », with its financing plan."""
        row = op.row
        org, op.porteur = self.holder(row)
        cost = money(row["cout_total"])
        multi = op.target in MULTI_FUNDER_STATES and cost >= 100000 and op.nth % 2 == 1
        plan, op.schemes = self.financing_plan(row, multi)
        op.case = builders.case_build(
            porteur=op.porteur,
            title=row["description"].strip()[:300],
            plan=plan,
            description=operation_description(row, cost),
            theme=row["categorie"].split(" - ", 1)[-1],
            organisation=org.pk,
            communes=[row["id_terr"]] if row["echelon"] == "commune" else [],
        )
        op.agent = op.case.referent_agent
        return op

    def op_upstream(self, op: Operation) -> bool:
        """Ideas, and projects in upstream scoping with the agent's opportunity opinion."""
        if op.target not in ("idea", "scoping"):
            return False
        created = self.today - dt.timedelta(days=self.rng.randint(10, 150))
        self.backdate(op.case, created)
        if op.target == "scoping":
            transition(
                op.case,
                "start_scoping",
                actor=op.agent,
                comment="Rendez-vous d'accompagnement amont.",
                date=min(created + dt.timedelta(days=7), self.today),
            )
            services.opinion_create(
                actor=op.agent,
                case=fresh(op.case),
                kind=Opinion.Kind.OPPORTUNITY,
                value=Opinion.Value.FAVOURABLE,
                text="Projet cohérent avec le projet de territoire ; plan de financement "
                "à consolider avant le recrutement du maître d'œuvre.",
            )
        return True

    def op_draft(self, op: Operation) -> bool:
        """Applications being written, some documents uploaded (one withdrawn)."""
        if not (op.target == "draft" or (op.target == "withdrawn" and op.nth == 1)):
            return False
        porteur = op.porteur
        transition(op.case, "open_application", actor=porteur, comment="Ouverture de la demande.")
        self.backdate(op.case, self.today - dt.timedelta(days=self.rng.randint(5, 120)))
        codes = builders.required_codes(*op.schemes)
        self.upload(fresh(op.case), porteur, codes[: self.rng.randint(0, len(codes) - 1)])
        if op.target == "withdrawn":
            transition(
                op.case,
                "withdraw",
                actor=porteur,
                reason="Projet reporté : le conseil municipal attend le diagnostic "
                "énergétique avant de déposer.",
            )
        return True

    def op_deposit(self, op: Operation) -> bool:
        """Every further state starts with a complete deposit (one with a document asked
        for and provided the same day)."""
        op.dates = d = timeline_of(op, self.today, self.rng)
        case, porteur = op.case, op.porteur
        opened = d["receipt"] - dt.timedelta(days=self.rng.randint(20, 90))
        self.backdate(case, opened)
        transition(
            case, "open_application", actor=porteur, comment="Ouverture de la demande.", date=opened
        )
        self.upload(fresh(case), porteur, builders.required_codes(*op.schemes))
        builders.case_submit_on(
            case, porteur=porteur, receipt=d["receipt"], comment="Dépôt du dossier complet."
        )
        if op.target != "submitted":
            return False
        if op.nth == 1:
            transition(
                case,
                "request_documents",
                actor=op.agent,
                documents=["Plan de financement signé"],
                date=d["receipt"],
            )
            self.upload(fresh(case), porteur, ["other"])
            transition(case, "provide_documents", actor=porteur, date=d["receipt"])
        self.submitted_received(op)
        return True

    def op_incomplete(self, op: Operation) -> bool:
        if op.target != "incomplete":
            return False
        transition(
            op.case,
            "request_documents",
            actor=op.agent,
            comment="Pièces manquantes pour déclarer le dossier complet.",
            documents=[
                "Délibération du conseil approuvant le plan de financement définitif",
                "Devis actualisés (moins de 6 mois)",
            ][: 1 + op.nth % 2],
            date=op.dates["request_documents"],
        )
        return True

    def op_complete(self, op: Operation) -> bool:
        """Declared complete, an opinion given, each request in instruction."""
        case, agent, nth, complete = op.case, op.agent, op.nth, op.dates["complete"]
        transition(case, "declare_complete", actor=agent, comment="Dossier complet.", date=complete)
        partner = User.objects.filter(role=User.Role.EPCI_PARTNER, epci_id=case.epci_id).first()
        if partner is not None and nth % 2:
            services.opinion_create(
                actor=partner,
                case=fresh(case),
                kind=Opinion.Kind.EPCI,
                value=Opinion.Value.FAVOURABLE,
                text="Avis favorable de la communauté de communes : projet inscrit au plan "
                "pluriannuel d'investissement.",
            )
        elif nth % 3 == 0:
            services.opinion_create(
                actor=agent,
                case=fresh(case),
                kind=Opinion.Kind.TRANSITION,
                value=Opinion.Value.FAVOURABLE,
                text="Lecture transitionnelle : sobriété énergétique et usage partagé du "
                "bâtiment à valoriser.",
            )
        self.requests_to_instruction(op)
        if not (op.target == "instruction" or (op.target == "withdrawn" and nth == 2)):
            return False
        if op.target == "withdrawn":
            transition(
                case,
                "withdraw",
                actor=agent,
                reason="Abandon signalé par la commune : coût des travaux réévalué "
                "au-delà de sa capacité d'emprunt.",
            )
        return True

    def op_decision(self, op: Operation) -> bool:
        """Every funder refuses (rejected) or grants; lapsed grants are left unused."""
        granted = op.dates["grant"]
        for fr in self.requests(op.case):
            if op.target == "rejected":
                transition(
                    fr,
                    "refuse",
                    actor=self.instructor(fr),
                    motivation="Enveloppe départementale de l'exercice épuisée ; le projet "
                    "peut être représenté à la prochaine programmation.",
                    date=granted,
                )
            else:
                builders.request_grant_on(
                    fr,
                    instructor=self.instructor(fr),
                    granted=granted,
                    comment="Arrêté attributif notifié.",
                )
        # the lapsed ones: the sweep marks their deadline missed, the funder records the
        # lapse (DemoBuilder.record_lapses)
        return op.target in ("rejected", "lapsed") or (op.target == "decided" and op.variant == 0)

    def op_agreement(self, op: Operation) -> bool:
        """Agreements signed (then one withdrawn)."""
        for fr in self.requests(op.case):
            builders.request_commit_on(
                fr,
                instructor=self.instructor(fr),
                committed=op.dates["commit"],
                comment="Convention signée.",
            )
        if op.target not in ("decided", "withdrawn"):
            return False
        if op.target == "decided" and op.nth == 4:
            self.works_start_extended(op)
        if op.target == "withdrawn":
            transition(
                op.case,
                "withdraw",
                actor=op.porteur,
                reason="La commune renonce : projet repris par l'intercommunalité.",
            )
        return True

    def op_works(self, op: Operation) -> bool:
        """Works started, with an advance claimed (and paid, or not yet) for some."""
        target, variant, d = op.target, op.variant, op.dates
        transition(
            op.case,
            "start_works",
            actor=op.porteur,
            comment="Ordre de service n° 1.",
            date=d["start"],
        )
        with_advance = (
            (target == "in_progress" and variant != 0)
            or (target == "completed" and variant == 1)
            or (target == "closed" and op.nth % 2 == 1)
        )
        for fr in self.requests(op.case) if with_advance else ():
            if fr.scheme.advance_max_rate is None:
                continue
            amount = money(fr.amount_requested * fr.scheme.advance_max_rate)
            unpaid = target == "in_progress" and variant == 2
            self.pay_claim(
                fr,
                op.porteur,
                PaymentClaim.Kind.ADVANCE,
                amount,
                d["adv_filed"],
                None if unpaid else d["adv_verified"],
                None if unpaid else d["adv_paid"],
            )
        return target == "in_progress"

    def op_completion(self, op: Operation) -> bool:
        self.installments_before_completion(op)
        transition(
            op.case,
            "complete_works",
            actor=op.porteur,
            comment="Réception des travaux.",
            date=op.dates["completion"],
        )
        return op.target == "completed" and op.variant == 0

    def op_balance(self, op: Operation) -> bool:
        """The balance claimed: verified (but one), paid for the closed ones."""
        target, d = op.target, op.dates
        share = self.actual_cost_share(op)
        if share is not None:
            self.balance_on_actual_cost(op, share)
            return True
        for fr in self.requests(op.case):
            fr = fresh(fr)
            self.pay_claim(
                fr,
                op.porteur,
                PaymentClaim.Kind.BALANCE,
                fr.amount_granted - fr.amount_paid,
                d["bal_filed"],
                None if target == "completed" and op.variant == 2 else d["bal_verified"],
                d["bal_paid"] if target == "closed" else None,
            )
        return True
