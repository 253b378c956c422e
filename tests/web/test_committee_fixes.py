"""Issue 12, point 5, on the committee pages: a recorded vote is never replaced silently;
an item the committee cannot decide validly is projected « Ajourné (motif) »; members are
named by their name, not their login, on the pages and in the minutes; the session's own
date stays apart from the date its close was recorded."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.utils import timezone

from cases import committee as committee_service
from cases.models import CommitteeSession, User, Vote
from tests import factories as f
from tests.engine import walk
from tests.web.test_committee import GOOD, WEAK, awaiting, member, scores_post, text

pytestmark = pytest.mark.django_db

# 4 + 3,5 + 4 + 3 + 2 = 16,50 points.
SCORED = {
    "ancrage": "4",
    "innovation": "3,5",
    "transition": "4",
    "cooperation": "3",
    "economie": "2",
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


@pytest.fixture
def committee():
    """Seven members: 3 public, 1 each of agriculture, associations, entreprises, tourisme."""
    public = [member() for _ in range(3)]
    private = [
        member("private", g) for g in ("agriculture", "associations", "entreprises", "tourisme")
    ]
    return public, private


def plan(client, agent, members, day="2026-06-04") -> tuple[CommitteeSession, str]:
    client.force_login(agent)
    done = client.post(
        "/comite/seances/nouvelle/", {"date": day, "members": [m.pk for m in members]}
    )
    assert done.status_code == 302
    session = CommitteeSession.objects.get()
    return session, f"/comite/seances/{session.pk}/"


def plain(page_text: str) -> str:
    """The page's words without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text))


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_recorded_vote_is_prefilled_and_replaced_only_explicitly(client, committee):
    public, private = committee
    agent = f.agent()
    fr = awaiting(agent, "Halle gourmande de Monestiés")
    session, url = plan(client, agent, public + private)
    voter = public[0]

    client.force_login(voter)
    assert client.post(f"{url}votes/", scores_post(fr, "for", SCORED)).status_code == 302
    vote = Vote.objects.get(member=voter, funding_request=fr)
    assert vote.vote == "for" and vote.total_score == Decimal("16.5")

    # The member's form shows the vote recorded, pre-filled, and says how to change it.
    html = text(client.get(url))
    assert "Vote déjà enregistré : Pour, 16,50 — le modifier" in plain(html)
    assert f'id="point-{fr.pk}-vote-for" checked' in html
    assert 'value="3,5"' in html and 'name="replace" value="1"' in html
    assert "Modifier le vote</button>" in html

    # The staff re-posting a default form (abstention, blank scores) for this member is
    # refused: the recorded vote stays, and the form shows it.
    client.force_login(agent)
    blank = client.post(f"{url}votes/", scores_post(fr, "abstain", {}, member_id=voter.pk))
    assert blank.status_code == 409
    html = text(blank)
    assert f"{voter.get_full_name()} a déjà voté sur « Halle gourmande de Monestiés »" in html
    assert "Pour, 16,50. Ce vote n'a pas été remplacé" in html
    assert f'id="point-{fr.pk}-vote-for" checked' in html and 'value="3,5"' in html
    vote.refresh_from_db()
    assert vote.vote == "for" and vote.total_score == Decimal("16.5")
    # Nor an empty post (no choice at all).
    empty = client.post(f"{url}votes/", {"funding_request": fr.pk, "member": voter.pk})
    assert empty.status_code == 409 and Vote.objects.get(pk=vote.pk).vote == "for"

    # The staff follow « modifier » from the votes table: the member's vote, pre-filled.
    page = client.get(url)
    link = f"?point={fr.pk}&amp;membre={voter.pk}#point-{fr.pk}-vote"
    assert link in page.content.decode()
    html = text(client.get(f"{url}?point={fr.pk}&membre={voter.pk}"))
    assert f"Modifier le vote de {voter.get_full_name()}" in html
    assert f"Vote déjà enregistré pour {voter.get_full_name()} : Pour, 16,50" in plain(html)
    assert f'name="member" value="{voter.pk}"' in html and 'value="3,5"' in html

    # Explicit replacement: done, and the message names the old and the new vote.
    changed = client.post(
        f"{url}votes/", {**scores_post(fr, "against", WEAK, member_id=voter.pk), "replace": "1"}
    )
    assert changed.status_code == 302
    vote.refresh_from_db()
    assert vote.vote == "against" and vote.total_score == Decimal("4")
    assert flashed(changed) == [
        f"Le vote de {voter.get_full_name()} sur « Halle gourmande de Monestiés » est modifié : "
        "Pour, 16,50 remplacé par Contre, 4,00."
    ]

    # The member's own re-post without « modifier » is refused too; with it, accepted.
    client.force_login(voter)
    again = client.post(f"{url}votes/", scores_post(fr, "abstain", {}))
    assert again.status_code == 409 and Vote.objects.get(pk=vote.pk).vote == "against"
    mine = client.post(f"{url}votes/", {**scores_post(fr, "for", GOOD), "replace": "1"})
    assert mine.status_code == 302 and Vote.objects.get(pk=vote.pk).vote == "for"
    assert (
        "Votre vote sur « Halle gourmande de Monestiés » est modifié : Contre, 4,00 "
        in (flashed(mine)[0])
    )


def test_an_invalid_item_is_projected_adjourned_with_its_reason(client, committee):
    public, private = committee
    agent = f.agent()
    alone = awaiting(agent, "Jardin partagé")
    session, url = plan(client, agent, [private[0]])  # 1 of 7: no quorum
    client.force_login(private[0])
    client.post(f"{url}votes/", scores_post(alone, "for", GOOD))

    outcomes = committee_service.session_outcomes(session)
    assert [item.valid for item in outcomes.items] == [False]
    html = text(client.get(url))
    assert "ne peut pas délibérer valablement sur 1 projet" in html
    assert "Issue si la séance était close maintenant" in html
    assert "Ajourné (quorum non atteint" in html and "Sélectionné" not in html

    # Once closed, the recorded decision reads the same.
    client.force_login(agent)
    assert client.post(f"{url}cloture/").status_code == 302
    html = text(client.get(url))
    assert "Ajourné (quorum non atteint" in html and "Sélectionné" not in html


def test_the_49_percent_rule_projects_adjourned(client, committee):
    public, private = committee
    agent = f.agent()
    fr = awaiting(agent, "Parcours lumineux")
    present = public + private[:1]  # quorum reached; public college 3 of 4 votes
    session, url = plan(client, agent, present)
    for m in present:
        client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=m.pk))
    assert not committee_service.session_outcomes(session).items[0].valid
    html = text(client.get(url))
    assert "Ajourné (règle des 49 % non respectée)" in html and "Sélectionné" not in html

    # With the whole committee present the item is valid and projected selected.
    session.members.add(*private[1:])
    for m in private[1:]:
        client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=m.pk))
    html = text(client.get(url))
    assert "Sélectionné" in html and "Ajourné (" not in html


def test_members_are_named_by_their_name_not_their_login(client, committee):
    public, _private = committee
    agent = f.agent()
    fr = awaiting(agent, "Maison de santé")
    named = User.objects.create(
        username="comite.agri1",
        first_name="Jeanne",
        last_name="Rouquette",
        role=User.Role.COMMITTEE_MEMBER,
        college="private",
        interest_group="agriculture",
    )
    bare = User.objects.create(
        username="comite.asso9",
        role=User.Role.COMMITTEE_MEMBER,
        college="private",
        interest_group="associations",
    )
    session, url = plan(client, agent, public + [named, bare])
    client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=named.pk))
    declared = client.post(
        f"{url}conflits/", {"funding_request": fr.pk, "member": bare.pk, "reason": ""}
    )
    assert declared.status_code == 302
    html = text(client.get(url))
    assert "Jeanne Rouquette" in html and "comite.agri1" not in html
    assert "comite.asso9 ne prend pas part à ce point" in html  # no name: the login

    client.post(f"{url}cloture/")
    minutes = client.get(f"{url}proces-verbal.pdf")
    assert minutes.status_code == 200
    pdf_html = render_to_string("web/pdf/minutes.html", minutes.context.flatten())
    assert "Jeanne Rouquette" in pdf_html and "comite.agri1" not in pdf_html
    assert "comite.asso9 a déclaré un conflit d'intérêts" in pdf_html


def test_the_session_date_is_not_the_date_its_close_was_recorded(client, committee):
    public, private = committee
    agent = f.agent()
    fr = awaiting(agent, "Tiers-lieu de Cordes")
    session, url = plan(client, agent, public + private, day="03/07/2026")
    assert session.date == dt.date(2026, 7, 3)
    for m in public + private:
        client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=m.pk))
    assert client.post(f"{url}cloture/").status_code == 302
    session.refresh_from_db()
    recorded = timezone.localtime(session.closed_at).strftime("%d/%m/%Y à %H:%M")

    html = text(client.get(url))
    assert "Date de la séance 03/07/2026" in plain(html)
    assert f"Clôture enregistrée le {recorded}" in plain(html)
    assert "la séance s'est tenue le 03/07/2026" in html
    assert " Clos le " not in html

    minutes = client.get(f"{url}proces-verbal.pdf")
    pdf_html = text_of(minutes)
    assert "Séance du vendredi 3 juillet 2026" in pdf_html
    assert f"Clôture enregistrée dans le guichet le {recorded}" in pdf_html
    assert "close le" not in pdf_html


def text_of(response) -> str:
    rendered = render_to_string("web/pdf/minutes.html", response.context.flatten())
    return re.sub(r"\s+", " ", html.unescape(rendered))
