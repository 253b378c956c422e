"""Revised rule 12, the LEADER committee (issue 11's findings, each a scenario that failed
before): a member who declares an interest takes no part in that item (not counted for
its quorum nor for the 49 % rule, recorded; EU Reg. 2021/1060 art. 33(3)(b)); substitutes
vote for absent titular members of their college; a written consultation takes replies
until its closing date and closes after it, with the same rules on the replies received;
each item is valid on its own, and one invalid item never blocks the others."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cases.committee import session_create, session_outcomes, session_substitutions
from cases.committee_declarations import conflict_declare, substitute_name
from cases.models import CommitteeDecision, FundingRequest, RequestState, Vote
from engine.errors import DomainError
from schemes.models import Scheme
from tests import factories as f
from tests.cases.test_committee import GOOD, awaiting, close, members, session_for, vote
from tests.engine import walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.fixture
def agent():
    return f.agent()


def declare(agent, session, fr, member, reason="Maire de la commune porteuse."):
    return conflict_declare(
        actor=agent, session=session, funding_request_id=fr.pk, member_id=member.pk, reason=reason
    )


def decision(session, fr) -> CommitteeDecision:
    return CommitteeDecision.objects.get(session=session, funding_request=fr)


def state(fr) -> str:
    return FundingRequest.objects.get(pk=fr.pk).state


# ---------------------------------------------------------------- conflicts of interest


def test_a_conflicted_member_takes_no_part_and_is_not_counted(agent):
    first, second = awaiting(agent, 2)
    everyone = members(2, agriculture=1, associations=1, entreprises=1, tourisme=1)  # 6
    three = [everyone[0], everyone[2], everyone[3]]  # 3 of 6: quorum exactly
    session = session_for(agent, three)
    vote(agent, session, first, three, "for", GOOD)
    vote(agent, session, second, three, "for", GOOD)
    declare(agent, session, first, everyone[2])  # his vote on that item is withdrawn
    assert not Vote.objects.filter(session=session, funding_request=first, member=everyone[2])
    with pytest.raises(DomainError) as err:
        vote(agent, session, first, [everyone[2]], "for")
    assert err.value.status == 400 and "conflit d'intérêts" in err.value.message
    close(agent, session)
    d = decision(session, first)
    assert d.outcome == "adjourned" and not d.valid and d.present == 2
    assert "Quorum non atteint : 2 membre(s) présent(s) sur 6" in d.reason
    assert "1 membre(s) en conflit d'intérêts non compté(s)" in d.reason
    # the other item, where nobody declared anything, is decided
    assert state(first) == RequestState.ADJOURNED and state(second) == RequestState.SELECTED
    assert decision(session, second).valid and decision(session, second).present == 3


def test_a_conflicted_member_is_left_out_of_the_49_percent_rule(agent):
    (fr,) = awaiting(agent)
    present = members(2, agriculture=1, tourisme=1)
    session = session_for(agent, present)
    vote(agent, session, fr, present, "for")  # public 2 of 4 = 50 %: too many
    assert not session_outcomes(session).items[0].valid
    declare(agent, session, fr, present[0])  # public 1 of 3 — but 3 of 4 present: quorum ok
    (item,) = session_outcomes(session).items
    assert item.valid and item.conflicted == [present[0].pk]
    close(agent, session)
    assert state(fr) == RequestState.SELECTED


def test_a_member_declares_only_for_itself(agent):
    (fr,) = awaiting(agent)
    present = members(1, agriculture=1, tourisme=1)
    session = session_for(agent, present)
    with pytest.raises(DomainError) as err:
        declare(present[0], session, fr, present[1])
    assert err.value.code == "forbidden"
    own = declare(present[0], session, fr, present[0], reason="x" * 500)
    assert own.member == present[0] and own.recorded_by == present[0]
    with pytest.raises(DomainError) as err:
        declare(present[0], session, fr, present[0], reason="x" * 501)
    assert err.value.status == 400


# ---------------------------------------------------------------- substitutes


def test_a_substitute_votes_for_an_absent_titular(agent):
    (fr,) = awaiting(agent)
    titulars = members(1, agriculture=1, tourisme=1, associations=1)  # 4 seats
    (sub_public,) = members(agriculture=1)
    substitute_name(actor=agent, titular_id=titulars[1].pk, substitute_id=sub_public.pk)
    present = [titulars[0], titulars[2], sub_public]  # titular 1 absent, his substitute sits
    session = session_for(agent, present)
    vote(agent, session, fr, present, "for", GOOD)
    v = Vote.objects.get(session=session, member=sub_public)
    assert v.on_behalf_of == titulars[1]
    assert [(s.pk, t.pk) for s, t in session_substitutions(session)] == [
        (sub_public.pk, titulars[1].pk)
    ]
    (item,) = session_outcomes(session).items
    assert item.present == 3  # 3 seats of 4: the substitute is no fifth member
    close(agent, session)
    assert decision(session, fr).votes_for == 3 and state(fr) == RequestState.SELECTED


def test_a_titular_present_and_their_substitute_never_both_count(agent):
    (fr,) = awaiting(agent)
    titulars = members(1, agriculture=1, tourisme=1, associations=1)  # 4 seats
    (sub,) = members(agriculture=1)
    substitute_name(actor=agent, titular_id=titulars[1].pk, substitute_id=sub.pk)
    session = session_for(agent, [*titulars[:3], sub])  # titular and substitute both there
    with pytest.raises(DomainError) as err:
        vote(agent, session, fr, [sub], "for")
    assert "titulaire, siège à cette séance" in err.value.message
    (item,) = session_outcomes(session).items
    assert item.present == 3  # three seats, not four
    vote(agent, session, fr, titulars[:3], "for")
    close(agent, session)
    assert decision(session, fr).votes_for == 3 and state(fr) == RequestState.SELECTED


def test_substitutes_are_of_the_titular_college_and_hold_no_seat(agent):
    from cases.committee import committee_size

    public, private = members(1, agriculture=1)
    (other,) = members(tourisme=1)
    before = committee_size()
    with pytest.raises(DomainError) as err:
        substitute_name(actor=agent, titular_id=public.pk, substitute_id=private.pk)
    assert "même collège" in err.value.message and err.value.status == 400
    with pytest.raises(DomainError):
        substitute_name(actor=agent, titular_id=private.pk, substitute_id=private.pk)
    substitute_name(actor=agent, titular_id=private.pk, substitute_id=other.pk)
    assert committee_size() == before - 1  # a substitute is no titular member
    with pytest.raises(DomainError) as err:
        substitute_name(actor=other, titular_id=private.pk, substitute_id=other.pk)
    assert err.value.code == "forbidden"


def test_a_substitute_does_not_replace_a_conflicted_titular(agent):
    (fr,) = awaiting(agent)
    titulars = members(1, agriculture=1, tourisme=1)
    (sub,) = members(agriculture=1)
    substitute_name(actor=agent, titular_id=titulars[1].pk, substitute_id=sub.pk)
    session = session_create(
        actor=agent,
        date=timezone.localdate(),
        members=None,
        scheme=Scheme.objects.get(code="LEADER"),
        kind="written",
        closes_on=timezone.localdate() + dt.timedelta(days=10),
    )
    declare(agent, session, fr, titulars[1])
    with pytest.raises(DomainError) as err:
        vote(agent, session, fr, [sub], "for")
    assert "a déclaré un conflit d'intérêts" in err.value.message


# ---------------------------------------------------------------- written consultation


def written(agent, launched, closes_on, present=None):
    return session_create(
        actor=agent,
        date=launched,
        members=None if present is None else [m.pk for m in present],
        scheme=Scheme.objects.get(code="LEADER"),
        kind="written",
        closes_on=closes_on,
    )


def test_a_written_consultation_takes_replies_until_its_closing_date(agent):
    first, second = awaiting(agent, 2)
    seats = members(2, agriculture=1, associations=1, entreprises=1, tourisme=1)  # 6
    (sub,) = members(tourisme=1)
    substitute_name(actor=agent, titular_id=seats[5].pk, substitute_id=sub.pk)
    today = timezone.localdate()
    session = written(agent, today, today + dt.timedelta(days=7))
    assert session.written and session.members.count() == 7  # the committee, substitutes too
    with pytest.raises(DomainError) as err:
        close(agent, session)
    assert "jusqu'au" in err.value.message and err.value.status == 400
    # replies: 3 titulars and one substitute (for the titular who did not reply) on the first
    vote(agent, session, first, [seats[0], seats[2], seats[3], sub], "for", GOOD)
    assert Vote.objects.get(session=session, member=sub).on_behalf_of == seats[5]
    vote(agent, session, second, [seats[0], seats[1]], "for", GOOD)  # 2 replies of 6
    # the titular replies after all: the titular's reply replaces the substitute's
    vote(agent, session, first, [seats[5]], "for", GOOD)
    assert not Vote.objects.filter(session=session, member=sub).exists()
    with time_machine.travel(today + dt.timedelta(days=8), tick=False):
        with pytest.raises(DomainError) as err:
            vote(agent, session, first, [seats[4]], "for")
        assert err.value.code == "unavailable" and "close depuis" in err.value.message
        close(agent, session)
    assert state(first) == RequestState.SELECTED and decision(session, first).present == 4
    d = decision(session, second)
    assert d.outcome == "adjourned" and not d.valid
    assert "2 réponse(s) reçue(s) sur 6" in d.reason


def test_a_written_consultation_needs_its_closing_date_after_the_launch(agent):
    members(1, agriculture=1)
    today = timezone.localdate()
    with pytest.raises(DomainError) as err:
        written(agent, today, None)
    assert err.value.errors.get("closes_on")
    with pytest.raises(DomainError) as err:
        written(agent, today, today - dt.timedelta(days=1))
    assert "précède le lancement" in err.value.message
    with pytest.raises(DomainError) as err:
        session_create(
            actor=agent,
            date=today,
            members=[],
            scheme="LEADER",
            closes_on=today,
        )
    assert "consultation écrite" in err.value.message


# ---------------------------------------------------------------- validity per item


def test_one_invalid_item_never_blocks_the_others(agent):
    good, lopsided, silent = awaiting(agent, 3)
    present = members(2, agriculture=1, associations=1, entreprises=1, tourisme=1)
    session = session_for(agent, present)
    vote(agent, session, good, present, "for", GOOD)
    vote(agent, session, lopsided, present[:3], "for", GOOD)  # public 2 of 3
    close(agent, session)  # before revised rule 12: refused, nothing decided
    assert state(good) == RequestState.SELECTED
    assert state(lopsided) == RequestState.ADJOURNED
    assert state(silent) == RequestState.ADJOURNED
    d = decision(session, lopsided)
    assert not d.valid and "Règle des 49 %" in d.reason
    assert decision(session, silent).valid  # no vote: adjourned, but not for invalidity
    log = FundingRequest.objects.get(pk=lopsided.pk)
    assert log.state == RequestState.ADJOURNED
