"""LEADER dossiers and the programming committee: a session held (votes, scores, the
quorum and the 49 % rule), its selected dossiers funded, and the next session planned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.calendar import is_working_day
from schemes.models import EPCI, Commune

from .. import builders, committee
from ..builders import fresh, transition
from ..models import Case, FundingRequest, Organisation, User
from .constants import COMMITTEE, MARKER_TITLE, PRESENT_CLOSED
from .people import commune_siren

# Dossiers of the held session: holder, title, description, theme, total cost, scheme
# lines, receipt (days after the first), the agent's pre-score.
FIRST_ROUND = [
    (
        "asso",
        MARKER_TITLE,
        "Balisage d'un circuit de 12 km reliant Cordes-sur-Ciel aux bastides voisines, "
        "panneaux d'interprétation et application mobile hors ligne.",
        "Tourisme et patrimoine",
        60000,
        (("LEADER", 36000), ("DEPT_TARN", 9000)),
        0,
        "17",
    ),
    (
        "ferme",
        "Atelier de transformation et magasin de producteurs à Valence-d'Albigeois",
        "Atelier collectif de découpe et de transformation, point de vente de six "
        "exploitations du Ségala.",
        "Économie et emploi",
        80000,
        (("LEADER", 32000), ("REGION_OCC", 8000)),
        3,
        "14",
    ),
    (
        "monesties",
        "Aire de services pour randonneurs et camping-cars à Monestiés",
        "Aire d'accueil avec borne de services, abri vélos et sanitaires.",
        "Tourisme et patrimoine",
        50000,
        (("LEADER", 25000),),
        7,
        "11",
    ),
    (
        "carmaux",
        "Parcours lumineux du patrimoine minier à Carmaux",
        "Mise en lumière scénarisée des chevalements et du puits Sainte-Marie.",
        "Culture",
        30000,
        (("LEADER", 20000),),
        10,
        "10.5",
    ),
]
# On the agenda of the next session.
SECOND_ROUND = [
    (
        "jardins",
        "Jardin partagé et pédagogique de Sainte-Gemme",
        "Création d'un jardin partagé, d'un verger conservatoire et d'ateliers avec l'école.",
        "Alimentation et transition",
        30000,
        (("LEADER", 16000), ("DEPT_TARN", 4000)),
        0,
        "15",
    ),
    (
        "cc",
        "Plan de mobilité rurale partagée du Centre Tarn",
        "Étude et expérimentation d'autopartage et de transport solidaire.",
        "Mobilité",
        45000,
        (("LEADER", 28000),),
        5,
        "13",
    ),
]
# (votes against, abstentions, target score) per agenda item of the held session.
INTENTIONS = [(0, 0, 16), (2, 1, 13), (1, 1, 8), (6, 1, 9)]


def leader_plan(total: int, lines) -> dict:
    return builders.plan(
        total, *lines, expense_label="Investissements et prestations", own_label="Fonds propres"
    )


class Leader:
    """Mixed into ``DemoBuilder``."""

    def build_leader(self) -> None:
        holders = self.leader_holders()
        first = self.leader_round(holders, FIRST_ROUND, self.day(250))
        animator = self.users["agent.cordais"]
        self.leader_session_held(animator, [fr for _, fr in first])
        self.leader_selected_funded([case for case, _ in first[:2]], holders["asso"][1])
        for case, _ in first:
            self.done(case)
        second = self.leader_round(holders, SECOND_ROUND, self.day(70))
        self.leader_session_planned(animator)
        for case, _ in second:
            self.done(case)
        for case in self.leader_written_consultation(holders, animator):
            self.done(case)

    # -- the steps -------------------------------------------------------------------

    def leader_holders(self) -> dict[str, tuple[Organisation, User]]:
        """Two associations, a company, two communes and an EPCI, with their porteurs."""

        def commune(insee):
            return Commune.objects.get(insee=insee)

        def named(key, username, name, kind, insee):
            org = self.organisation(name=name, kind=kind, commune=commune(insee))
            return key, (org, self.porteur_for(org, username))

        def mairie(key, username, name, insee):
            org = self.organisation(
                name=name,
                kind=Organisation.Kind.COMMUNE,
                siren=commune_siren(insee),
                commune=commune(insee),
            )
            return key, (org, self.porteur_for(org, username))

        kinds = Organisation.Kind
        return dict(
            [
                named(
                    "asso",
                    "asso.bastides",
                    "Association Patrimoine et Bastides du Cordais",
                    kinds.ASSOCIATION,
                    "81069",
                ),
                named(
                    "ferme", "ferme.causses", "SARL La Ferme des Causses", kinds.COMPANY, "81308"
                ),
                named(
                    "jardins",
                    "asso.jardins",
                    "Association Les Jardins partagés du Ségala",
                    kinds.ASSOCIATION,
                    "81249",
                ),
                mairie("monesties", "mairie.monesties", "Commune de Monestiés", "81170"),
                mairie("carmaux", "mairie.carmaux", "Commune de Carmaux", "81060"),
                ("cc", self.epci_holder(EPCI.objects.get(siren="200034049"))),
            ]
        )

    def leader_round(self, holders, specs, first_receipt) -> list[tuple[Case, FundingRequest]]:
        """Dossiers filed, complete, in instruction, then put on the committee's agenda."""
        cases = []
        for key, title, description, theme, total, lines, after, _ in specs:
            org, porteur = holders[key]
            cases.append(
                self.leader_dossier(
                    org=org,
                    porteur=porteur,
                    title=title,
                    description=description,
                    theme=theme,
                    plan=leader_plan(total, lines),
                    receipt=first_receipt + dt.timedelta(days=after),
                )
            )
        return [
            (case, self.to_committee(case, agent, spec[-1]))
            for (case, agent), spec in zip(cases, specs, strict=True)
        ]

    def leader_dossier(self, *, org, porteur, title, description, theme, plan, receipt):
        case = builders.case_build(
            porteur=porteur,
            title=title,
            plan=plan,
            description=description,
            theme=theme,
            organisation=org.pk,
            communes=[org.commune.insee] if org.commune_id else [],
        )
        opened = receipt - dt.timedelta(days=45)
        self.backdate(case, opened)
        transition(
            case, "open_application", actor=porteur, comment="Ouverture de la demande.", date=opened
        )
        schemes = [r["scheme"] for r in plan["resources"] if r["kind"] == "scheme"]
        self.upload(fresh(case), porteur, builders.required_codes(*schemes))
        builders.case_submit_on(
            case, porteur=porteur, receipt=receipt, comment="Dépôt du dossier LEADER."
        )
        agent = case.referent_agent
        complete = receipt + dt.timedelta(days=14)
        transition(case, "declare_complete", actor=agent, comment="Dossier complet.", date=complete)
        builders.requests_instruction_start(
            case,
            instructor=lambda fr: agent if fr.scheme.committee else self.instructor(fr),
            started=complete,
        )
        return case, agent

    def to_committee(self, case: Case, agent: User, pre_score: str) -> FundingRequest:
        fr = case.funding_requests.get(scheme__code="LEADER")
        transition(
            fr,
            "submit_to_committee",
            actor=agent,
            comment="Pré-notation sur la grille.",
            pre_score=pre_score,
            date=fresh(case).receipt_date + dt.timedelta(days=21),
        )
        return fr

    def scores(self, target: int) -> dict[str, int]:
        grid = self.schemes["LEADER"].grid
        scores = {c["code"]: 0 for c in grid}
        left = max(0, min(target + self.rng.randint(-1, 1), sum(c["max"] for c in grid)))
        while left:
            criterion = self.rng.choice(grid)
            if scores[criterion["code"]] < criterion["max"]:
                scores[criterion["code"]] += 1
                left -= 1
        return scores

    def leader_session_held(self, animator: User, frs: list[FundingRequest]) -> None:
        """The session 150 days ago: 9 members present, every vote cast, then closed."""
        members = [self.users[name] for name in PRESENT_CLOSED]
        session = committee.session_create(
            actor=animator,
            date=self.day(150),
            members=[m.pk for m in members],
            scheme=self.schemes["LEADER"],
        )
        # Revised rule 12: an elected member of Carmaux takes no part in its project.
        conflicted = self.declare_interest(animator, session, frs[3], "comite.elu1")
        for fr, (against, abstain, target) in zip(frs, INTENTIONS, strict=True):
            for index, member in enumerate(members):
                vote = (
                    "against"
                    if index < against
                    else "abstain"
                    if index < against + abstain
                    else "for"
                )
                scores = self.scores(target)  # drawn for every seat: the same draws as before
                if (fr.pk, member.pk) == conflicted:
                    continue
                committee.vote_record(
                    actor=animator,
                    session=session,
                    funding_request_id=fr.pk,
                    member_id=member.pk,
                    vote=vote,
                    scores=scores,
                )
        transition(session, "close", actor=animator, comment="Séance du comité de programmation.")

    def leader_selected_funded(self, selected: list[Case], asso_user: User) -> None:
        """The co-financers and FEADER decide, conventions are signed; the first dossier
        starts and claims its installments."""
        grant_day, commit_day = self.day(120), self.day(100)
        for case in selected:
            for fr in sorted(self.requests(case), key=lambda f: f.scheme.committee):
                instructor = self.instructor(fr)
                builders.request_grant_on(
                    fr, instructor=instructor, granted=grant_day, comment="Décision attributive."
                )
                builders.request_commit_on(
                    fr, instructor=instructor, committed=commit_day, comment="Convention signée."
                )
        l1 = selected[0]
        transition(
            l1, "start_works", actor=asso_user, comment="Début de l'opération.", date=self.day(80)
        )
        dept = l1.funding_requests.get(scheme__code="DEPT_TARN")
        leader = l1.funding_requests.get(scheme__code="LEADER")
        self.pay_claim(
            dept,
            asso_user,
            "installment",
            Decimal("4500.00"),
            self.day(50),
            self.day(40),
            self.day(25),
        )
        # 60 % of FEADER while the Département paid 50 %: waits for the co-financer.
        self.pay_claim(
            leader, asso_user, "installment", Decimal("21600.00"), self.day(45), self.day(35)
        )

    def leader_session_planned(self, animator: User) -> None:
        """The next session, in 24 days (a working day), every member invited."""
        planned = self.today + dt.timedelta(days=24)
        while not is_working_day(planned):
            planned += dt.timedelta(days=1)
        committee.session_create(
            actor=animator,
            date=planned,
            members=[self.users[member[0]].pk for member in COMMITTEE],
            scheme=self.schemes["LEADER"],
        )
