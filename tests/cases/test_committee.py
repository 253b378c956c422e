"""LEADER programming committee: quorum, the 49 % rule per decision (EU Reg. 2021/1060
art. 33(3)), outcomes applied to the funding requests; since revised rule 12 validity is
per item: an invalid item is adjourned with its reason and the others are decided
(``tests/cases/test_committee_rule12.py`` for conflicts, substitutes, written
consultations)."""

import datetime as dt
from decimal import Decimal

import pytest

from cases.committee import session_create, vote_record
from cases.models import (
    CaseState,
    CommitteeDecision,
    CommitteeSession,
    FundingRequest,
    RequestState,
    User,
)
from engine.errors import DomainError
from engine.transitions import transition_apply
from schemes.models import Scheme
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

GOOD = {"ancrage": 4, "innovation": 3, "transition": 4}  # 11 ≥ 10
WEAK = {"ancrage": 2, "innovation": 2, "transition": 2}  # 6 < 10


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.fixture
def agent():
    return f.agent()


def members(public=0, active=True, **private_groups):
    """Committee members without passwords: ``members(2, agriculture=1, tourisme=2)``."""
    made = []
    for _ in range(public):
        made.append(_member("public", "", active))
    for group, count in private_groups.items():
        for _ in range(count):
            made.append(_member("private", group, active))
    return made


_seq = iter(range(10**6))


def _member(college, group, active):
    return User.objects.create(
        username=f"membre{next(_seq)}",
        role=User.Role.COMMITTEE_MEMBER,
        college=college,
        interest_group=group,
        is_active=active,
    )


def awaiting(agent, n=1) -> list[FundingRequest]:
    """``n`` LEADER requests put before the committee."""
    out = []
    for i in range(n):
        case, _porteur, _ = walk.instructing_case(
            walk.LEADER_PLAN, agent=agent, title=f"Tiers-lieu n° {next(_seq)}-{i}"
        )
        fr = case.funding_requests.get()
        transition_apply(
            instance=fr, name="submit_to_committee", actor=agent, data={"pre_score": "14"}
        )
        out.append(FundingRequest.objects.get(pk=fr.pk))
    return out


def session_for(agent, present) -> CommitteeSession:
    return session_create(
        actor=agent,
        date=dt.date(2026, 6, 4),
        members=[m.pk for m in present],
        scheme=Scheme.objects.get(code="LEADER"),
    )


def vote(agent, session, fr, voters, choice, scores=None):
    for member in voters:
        vote_record(
            actor=agent,
            session=session,
            funding_request_id=fr.pk,
            member_id=member.pk,
            vote=choice,
            scores=scores or {},
        )


def close(agent, session):
    return transition_apply(
        instance=CommitteeSession.objects.get(pk=session.pk), name="close", actor=agent
    )


def close_adjourned(agent, session, fr, *needles):
    """Revised rule 12: the session closes; the invalid item is adjourned with its reason."""
    close(agent, session)
    decision = CommitteeDecision.objects.get(session=session, funding_request=fr)
    assert decision.outcome == "adjourned" and not decision.valid
    for needle in needles:
        assert needle in decision.reason, decision.reason
    assert FundingRequest.objects.get(pk=fr.pk).state == RequestState.ADJOURNED
    assert CommitteeSession.objects.get(pk=session.pk).state == "closed"
    return decision


# ---------------------------------------------------------------- quorum


def test_quorum_boundary(agent):
    (fr,) = awaiting(agent)
    everyone = members(2, agriculture=2, associations=2, entreprises=2, tourisme=2)  # 10
    four = [everyone[0], everyone[2], everyone[4], everyone[6]]
    session = session_for(agent, four)
    vote(agent, session, fr, four, "for")
    close_adjourned(
        agent,
        session,
        fr,
        "Quorum non atteint : 4 membre(s) présent(s) sur 10",
        "au moins 5 (50 %)",
    )
    # at the next session a fifth member is there: 5 of 10 is enough
    (second,) = awaiting(agent)
    five = [*four, everyone[8]]
    session = session_for(agent, five)
    vote(agent, session, second, five, "for")
    close(agent, session)
    second.refresh_from_db()
    assert second.state == RequestState.SELECTED


def test_a_closed_session_keeps_the_committee_size_it_was_closed_with(agent):
    from cases.committee import committee_size, session_outcomes

    (fr,) = awaiting(agent)
    everyone = members(2, agriculture=2, associations=2, entreprises=2, tourisme=2)  # 10
    five = everyone[0::2]
    session = session_for(agent, five)
    vote(agent, session, fr, five, "for")
    close(agent, session)
    session.refresh_from_db()
    assert session.committee_size == 10
    members(0, agriculture=6)  # the committee grows afterwards
    assert committee_size() == 16 and committee_size(session) == 10
    assert session_outcomes(session).problems == []  # 5 of 10 then, still a valid session


def test_quorum_counts_only_active_members_and_rounds_up(agent):
    (first,) = awaiting(agent)
    everyone = members(2, agriculture=2, associations=2, entreprises=2, tourisme=1)  # 9
    members(3, active=False)  # former members do not count
    session = session_for(agent, everyone[:4])  # 4 of 9 < 4.5
    vote(agent, session, first, everyone[:4], "for")
    close_adjourned(agent, session, first, "4 membre(s) présent(s) sur 9", "au moins 5")
    (second,) = awaiting(agent)
    session = session_for(agent, everyone[:5])
    assert list(session.agenda.values_list("pk", flat=True)) == [second.pk]
    vote(agent, session, second, everyone[:5], "for")
    close(agent, session)
    assert FundingRequest.objects.get(pk=second.pk).state == RequestState.SELECTED


# ---------------------------------------------------------------- 49 % rule


def test_forty_nine_percent_rule_on_each_decision(agent):
    first, second = awaiting(agent, 2)
    present = members(2, agriculture=1, associations=1, entreprises=1, tourisme=1)
    session = session_for(agent, present)
    vote(agent, session, first, present, "for", GOOD)  # public 2 of 6
    vote(agent, session, second, present[:3], "for", GOOD)  # public 2 of 3: invalid
    decision = close_adjourned(
        agent,
        session,
        second,
        f"Règle des 49 % non respectée pour « {second.case.title} »",
        "« autorités publiques » détient 2 des 3 voix exprimées (67 %)",
    )
    assert first.case.title not in decision.reason
    # revised rule 12: the invalid item does not keep the valid one from being decided
    assert FundingRequest.objects.get(pk=first.pk).state == RequestState.SELECTED
    assert CommitteeDecision.objects.get(session=session, funding_request=first).valid


def test_a_private_interest_group_is_bound_too(agent):
    (fr,) = awaiting(agent)
    present = members(1, agriculture=3, tourisme=1)
    session = session_for(agent, present)
    vote(agent, session, fr, present, "for")  # agriculture: 3 of 5 = 60 %
    close_adjourned(agent, session, fr, "« agriculture » détient 3 des 5 voix")


def test_the_public_college_is_one_interest_group(agent):
    """Public members who name a group of their own still count as « autorités publiques »."""
    (fr,) = awaiting(agent)
    public = [_member("public", group, True) for group in ("élus communaux", "EPCI", "")]
    private = members(agriculture=1, tourisme=1)
    session = session_for(agent, public + private)
    vote(agent, session, fr, public + private, "for")  # public 3 of 5 = 60 %
    close_adjourned(agent, session, fr, "Règle des 49 %", "autorités publiques")


def test_exactly_forty_nine_percent_is_allowed_fifty_is_not(agent):
    first, second = awaiting(agent, 2)
    public = members(50)
    private = members(agriculture=17, associations=17, entreprises=17)
    session = session_for(agent, public + private)  # 101 members, all present
    vote(agent, session, first, public[:49] + private, "for")  # 49 of 100 votes: allowed
    vote(agent, session, second, public + private[:50], "for")  # 50 of 100: too many
    decision = close_adjourned(agent, session, second, "détient 50 des 100 voix exprimées (50 %)")
    assert second.case.title in decision.reason
    assert FundingRequest.objects.get(pk=first.pk).state == RequestState.SELECTED


# ---------------------------------------------------------------- outcomes


def test_outcomes_are_applied_to_the_requests(agent):
    selected, tied, rejected, weak, silent = awaiting(agent, 5)
    present = members(2, agriculture=1, associations=1, entreprises=1, tourisme=1)
    session = session_for(agent, present)
    assert set(session.agenda.values_list("pk", flat=True)) == {
        x.pk for x in (selected, tied, rejected, weak, silent)
    }
    vote(agent, session, selected, present[:4], "for", GOOD)
    vote(agent, session, selected, present[4:5], "against", GOOD)
    vote(agent, session, selected, present[5:], "abstain")
    vote(agent, session, tied, present[:3], "for")
    vote(agent, session, tied, present[3:], "against")
    vote(agent, session, rejected, present[:2], "for")
    vote(agent, session, rejected, present[2:], "against")
    vote(agent, session, weak, present, "for", WEAK)  # majority for, score below the minimum
    close(agent, session)

    states = {
        fr.pk: fr.state
        for fr in FundingRequest.objects.filter(
            pk__in=[x.pk for x in (selected, tied, rejected, weak, silent)]
        )
    }
    assert states == {
        selected.pk: RequestState.SELECTED,
        tied.pk: RequestState.ADJOURNED,
        rejected.pk: RequestState.REJECTED,
        weak.pk: RequestState.ADJOURNED,
        silent.pk: RequestState.ADJOURNED,
    }
    decisions = {d.funding_request_id: d for d in CommitteeDecision.objects.filter(session=session)}
    assert len(decisions) == 5
    d = decisions[selected.pk]
    assert (d.outcome, d.votes_for, d.votes_against, d.votes_abstain) == ("selected", 4, 1, 1)
    assert d.average_score == Decimal("11.00")
    assert decisions[weak.pk].average_score == Decimal("6.00")
    assert decisions[silent.pk].outcome == "adjourned" and decisions[silent.pk].votes_for == 0

    session = CommitteeSession.objects.get(pk=session.pk)
    assert session.state == "closed" and session.closed_at is not None
    # the only request of the rejected dossier is rejected: the dossier is decided (refused)
    rejected.case.refresh_from_db()
    assert rejected.case.state == CaseState.REJECTED
    selected.case.refresh_from_db()
    assert selected.case.state == CaseState.INSTRUCTION  # the GAL still grants and commits
    # an adjourned request goes back to instruction, then before a later committee
    transition_apply(
        instance=FundingRequest.objects.get(pk=tied.pk), name="resume_instruction", actor=agent
    )
    assert FundingRequest.objects.get(pk=tied.pk).state == RequestState.INSTRUCTING
    # no vote on a closed session
    with pytest.raises(DomainError) as err:
        vote(agent, session, selected, present[:1], "for")
    assert err.value.code == "unavailable"


def test_only_agents_close_a_session(agent):
    (fr,) = awaiting(agent)
    present = members(1, agriculture=1, tourisme=1)
    session = session_for(agent, present)
    vote(agent, session, fr, present, "for")
    with pytest.raises(DomainError) as err:
        close(present[0], session)
    assert err.value.code == "forbidden"
