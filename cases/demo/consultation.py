"""The LEADER committee's revised rule 12 in the demo: a member's declaration of interest
on one item (left out of that item's quorum and 49 % rule, said in the minutes), and a
written consultation (consultation écrite) on two urgent projects, with its closing date
and the replies received so far.

The committee services record replies and declarations on the day they are made (there
is no « received on » date) and close a written consultation only after its closing date:
the demo's consultation is therefore open, launched before the demo's day and closing
after the day the demo is loaded. No random draw here: the scores are fixed."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from engine.calendar import is_working_day

from .. import committee, committee_declarations
from ..models import CommitteeSession, FundingRequest, User

# Dossiers of the written consultation (same shape as ``leader.FIRST_ROUND``).
WRITTEN_ROUND = [
    (
        "carmaux",
        "Tiers-lieu numérique de la Verrerie à Carmaux",
        "Espace de travail partagé, atelier de fabrication numérique et accompagnement aux "
        "démarches en ligne dans l'ancienne maison du verrier.",
        "Économie et emploi",
        90000,
        (("LEADER", 40000), ("REGION_OCC", 9000)),
        0,
        "15",
    ),
    (
        "ferme",
        "Camion frigorifique mutualisé pour les circuits courts du Ségala",
        "Véhicule frigorifique partagé par le magasin de producteurs pour livrer les cantines "
        "et la restauration collective du territoire.",
        "Alimentation et transition",
        40000,
        (("LEADER", 16000), ("REGION_OCC", 4000)),
        4,
        "12",
    ),
]
#: Members who have not replied yet.
NOT_REPLIED = ("comite.elu5", "comite.asso2", "comite.entreprise2")
CONFLICT_REASON = "Conseiller municipal de Carmaux, commune maître d'ouvrage du projet."


def fixed_scores(grid: list[dict], target: int) -> dict[str, int]:
    """``target`` points spread over the grid's criteria in order, each to its maximum."""
    scores, left = {}, target
    for criterion in grid:
        scores[criterion["code"]] = min(left, criterion["max"])
        left -= scores[criterion["code"]]
    return scores


class Consultation:
    """Mixed into ``DemoBuilder``."""

    def declare_interest(self, animator, session, fr: FundingRequest, username: str):
        """The member declares an interest in the item (recorded by the animator, as at a
        meeting): (item, member) that takes no part in it."""
        member = self.users[username]
        committee_declarations.conflict_declare(
            actor=animator,
            session=session,
            funding_request_id=fr.pk,
            member_id=member.pk,
            reason=CONFLICT_REASON,
        )
        return fr.pk, member.pk

    def closing_date(self) -> dt.date:
        """Ten days after the later of the demo's day and the day it is loaded, on a
        working day: replies are still received when the demo opens."""
        day = max(self.today, timezone.localdate()) + dt.timedelta(days=10)
        while not is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def leader_written_consultation(self, holders, animator: User) -> list:
        """Two projects that cannot wait for the next meeting, put to the whole committee
        in writing; most members have replied, one declared an interest."""
        round_ = self.leader_round(holders, WRITTEN_ROUND, self.day(45))
        session = committee.session_create(
            actor=animator,
            date=self.day(8),
            members=None,
            scheme=self.schemes["LEADER"],
            kind="written",
            closes_on=self.closing_date(),
        )
        frs = [fr for _, fr in round_]
        conflicted = self.declare_interest(animator, session, frs[0], "comite.elu1")
        self.written_replies(session, frs, conflicted)
        return [case for case, _ in round_]

    def written_replies(self, session: CommitteeSession, frs, conflicted) -> None:
        grid = self.schemes["LEADER"].grid
        for member in session.members.order_by("username"):
            if member.username in NOT_REPLIED:
                continue
            for index, fr in enumerate(frs):
                if (fr.pk, member.pk) == conflicted:
                    continue
                vote = "abstain" if member.username == "comite.agri2" and index else "for"
                committee.vote_record(
                    actor=member,
                    session=session,
                    funding_request_id=fr.pk,
                    member_id=member.pk,
                    vote=vote,
                    scores=fixed_scores(grid, 15 - 2 * index),
                )
