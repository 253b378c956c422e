"""The secretary's grid of a committee session (issue 12): presence, votes and scores saved
one row (a member's vote on an item) at a time through a JSON endpoint, every item's
validity as ``session_outcomes`` computes it after each save; a recorded vote replaced only
by the row that showed it; refusals in French with nothing saved; each block also posts as
an ordinary form (no script)."""

import html
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import committee as committee_service
from cases.committee_declarations import conflict_declare
from cases.models import CommitteeSession, Vote
from engine.transitions import transition_apply
from tests import factories as f

from .test_committee import _fast_passwords, awaiting, member  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def text(value) -> str:
    return re.sub(r"\s+", " ", html.unescape(value))


@pytest.fixture
def setting():
    """Seven members (3 public, 4 private), 4 present (2 public, 2 private), one item."""
    public = [member() for _ in range(3)]
    private = [member("private", g) for g in ("agriculture", "associations", "tourisme", "sport")]
    agent = f.agent()
    fr = awaiting(agent, "Halle gourmande de Monestiés")
    session = committee_service.session_create(
        actor=agent,
        date=timezone.localdate(),
        members=[public[0].pk, public[1].pk, private[0].pk, private[1].pk],
        scheme="LEADER",
    )
    return {"agent": agent, "fr": fr, "session": session, "public": public, "private": private}


def row(fr, who, vote="for", previous="", **scores):
    data = {"funding_request": fr.pk, "member": who.pk, f"vote-{who.pk}": vote}
    data[f"previous-{who.pk}"] = previous
    for code, points in scores.items():
        data[f"score-{who.pk}-{code}"] = points
    return data


def grid_url(session, what=""):
    return f"/comite/seances/{session.pk}/grille/{what}"


def test_the_secretary_reaches_the_grid_from_the_session_page(client, setting):
    session, agent = setting["session"], setting["agent"]
    client.force_login(agent)
    page = text(client.get(f"/comite/seances/{session.pk}/").content.decode())
    assert f'href="{grid_url(session)}"' in page
    grid = client.get(grid_url(session))
    assert grid.status_code == 200
    body = text(grid.content.decode())
    assert "Halle gourmande de Monestiés" in body and "Présences" in body
    for m in setting["public"] + setting["private"]:  # the whole committee, for presence
        assert f'id="presence-{m.pk}"' in body
    absent = setting["public"][2]
    assert re.search(rf'name="vote-{absent.pk}"[^>]* disabled', body)
    assert "committee-grid.js" in body

    client.force_login(setting["public"][0])
    assert f'href="{grid_url(session)}"' not in text(
        client.get(f"/comite/seances/{session.pk}/").content.decode()
    )


def test_a_cell_saves_a_vote_then_an_explicit_edit_shows_modifie(client, setting):
    session, fr, who = setting["session"], setting["fr"], setting["public"][0]
    client.force_login(setting["agent"])
    saved = client.post(grid_url(session, "votes/"), row(fr, who, ancrage="4"), **JSON)
    assert saved.status_code == 200, saved.content
    answer = saved.json()
    assert answer["ok"] and answer["state"] == "saved"
    assert answer["message"] == "Enregistré : Pour, 4,00."
    vote = Vote.objects.get(session=session, funding_request=fr, member=who)
    assert vote.vote == "for" and vote.scores == {"ancrage": 4}
    assert vote.recorded_by == setting["agent"] and vote.total_score == Decimal("4")

    token = answer["previous"]
    assert token
    edit = row(fr, who, "against", token, ancrage="2", innovation="1,5")
    modified = client.post(grid_url(session, "votes/"), edit, **JSON).json()
    assert modified["state"] == "modified"
    assert modified["message"] == "Modifié : Pour, 4,00 remplacé par Contre, 3,50."
    vote = Vote.objects.get(session=session, funding_request=fr, member=who)
    assert vote.vote == "against" and vote.scores == {"ancrage": 2, "innovation": 1.5}
    assert Vote.objects.filter(session=session).count() == 1


def test_a_vote_recorded_meanwhile_is_never_replaced_silently(client, setting):
    session, fr, who = setting["session"], setting["fr"], setting["public"][0]
    committee_service.vote_record(
        actor=who, session=session, funding_request_id=fr.pk, member_id=None, vote="for", scores={}
    )
    client.force_login(setting["agent"])
    stale = client.post(grid_url(session, "votes/"), row(fr, who, "against"), **JSON)
    assert stale.status_code == 409
    answer = stale.json()
    assert not answer["ok"] and "Un vote a été enregistré entre-temps" in answer["message"]
    assert "Pour, sans note" in answer["message"] and "Rien n'a été remplacé" in answer["message"]
    assert Vote.objects.get(member=who).vote == "for"
    # Saved again with the version now shown: an explicit replacement.
    again = row(fr, who, "against", answer["previous"])
    assert client.post(grid_url(session, "votes/"), again, **JSON).json()["state"] == "modified"
    assert Vote.objects.get(member=who).vote == "against"


@pytest.mark.parametrize(
    ("points", "expected"),
    [("9", "doit être entre 0 et 5"), ("beaucoup", "indiquez un nombre de points")],
)
def test_an_invalid_score_is_refused_in_french_and_nothing_is_saved(
    client, setting, points, expected
):
    session, fr, who = setting["session"], setting["fr"], setting["public"][0]
    client.force_login(setting["agent"])
    refused = client.post(grid_url(session, "votes/"), row(fr, who, ancrage=points), **JSON)
    assert refused.status_code == 400
    answer = refused.json()
    assert not answer["ok"] and expected in answer["message"]
    assert expected in answer["errors"]["score_ancrage"]
    assert not Vote.objects.exists()
    novote = client.post(grid_url(session, "votes/"), row(fr, who, vote=""), **JSON)
    assert novote.status_code == 400
    assert "Choisissez pour, contre ou abstention" in novote.json()["errors"]["vote"]
    assert not Vote.objects.exists()


def test_a_member_not_of_the_session_is_refused(client, setting):
    session, fr, absent = setting["session"], setting["fr"], setting["public"][2]
    client.force_login(setting["agent"])
    refused = client.post(grid_url(session, "votes/"), row(fr, absent), **JSON)
    assert refused.status_code == 400
    assert "n'est pas inscrit comme présent à la séance" in refused.json()["message"]
    outsider = f.agent()
    nobody = client.post(grid_url(session, "votes/"), row(fr, outsider), **JSON)
    assert nobody.status_code == 400
    assert not Vote.objects.exists()


def test_only_the_secretary_uses_the_grid(client, setting):
    session, fr, who = setting["session"], setting["fr"], setting["public"][0]
    client.force_login(who)  # a member present: votes on the session page, not here
    assert client.get(grid_url(session)).status_code == 403
    refused = client.post(grid_url(session, "votes/"), row(fr, who), **JSON)
    assert refused.status_code == 403
    assert "Seuls les agents du PETR" in refused.json()["message"]
    presence = {"member": setting["public"][2].pk, "present": setting["public"][2].pk}
    assert client.post(grid_url(session, "presences/"), presence, **JSON).status_code == 403
    assert not Vote.objects.exists()
    assert session.members.count() == 4


def test_a_closed_session_is_refused(client, setting):
    session, fr, who, agent = (setting[k] for k in ("session", "fr", "public", "agent"))
    who = who[0]
    transition_apply(
        instance=CommitteeSession.objects.get(pk=session.pk), name="close", actor=agent
    )
    client.force_login(agent)
    refused = client.post(grid_url(session, "votes/"), row(fr, who), **JSON)
    assert refused.status_code == 409 and "La séance est close" in refused.json()["message"]
    assert not Vote.objects.exists()
    page = text(client.get(grid_url(session)).content.decode())
    assert "La séance est close" in page and 'name="vote-' not in page


def test_the_validity_of_each_item_follows_each_saved_cell(client, setting):
    """4 of 7 present: quorum reached; the 49 % rule decides, as ``session_outcomes``."""
    session, fr, agent = setting["session"], setting["fr"], setting["agent"]
    public, private = setting["public"], setting["private"]
    client.force_login(agent)
    url = grid_url(session, "votes/")

    def save(who, vote="for"):
        answer = client.post(url, row(fr, who, vote, ancrage="4"), **JSON).json()
        assert answer["ok"], answer
        outcome = committee_service.session_outcomes(CommitteeSession.objects.get(pk=session.pk))
        assert answer["invalid_items"] == sum(1 for o in outcome.items if not o.valid)
        return text(answer["items"][str(fr.pk)]), answer

    block, answer = save(public[0])  # public: 1 of 1 vote
    assert "Délibération non valable" in block and "Règle des 49 % non respectée" in block
    assert answer["invalid_items"] == 1 and "ne peut pas délibérer" in answer["summary"]
    block, _ = save(private[0])  # public: 1 of 2 votes, 50 %
    assert "Délibération non valable" in block and "détient 1 des 2 voix" in block
    block, answer = save(private[1], "against")  # public: 1 of 3 votes
    assert "Délibération valable" in block and "non valable" not in block
    assert "pour 2 · contre 1 · abstention 0" in block
    assert "Ajourné" in block  # valid, but an average of 4 points is under the grid's minimum
    assert answer["invalid_items"] == 0 and "peut délibérer valablement" in answer["summary"]

    # A conflict of interest takes the member out of the item: the rule fails again.
    conflict_declare(
        actor=agent, session=session, funding_request_id=fr.pk, member_id=private[1].pk
    )
    page = text(client.get(grid_url(session)).content.decode())
    assert "Conflit d'intérêts déclaré : ne prend pas part à ce point." in page
    assert f'name="vote-{private[1].pk}"' not in page
    assert "Règle des 49 % non respectée" in page


def test_presence_cells_follow_the_rules(client, setting):
    session, fr, agent = setting["session"], setting["fr"], setting["agent"]
    public, private = setting["public"], setting["private"]
    client.force_login(agent)
    url = grid_url(session, "presences/")
    joined = client.post(url, {"member": private[2].pk, "present": private[2].pk}, **JSON)
    assert joined.status_code == 200 and joined.json()["present"] is True
    assert joined.json()["present_count"] == 5 and session.members.filter(pk=private[2].pk).exists()
    assert "5 sièges comptés pour le quorum" in text(joined.json()["items"][str(fr.pk)])

    client.post(grid_url(session, "votes/"), row(fr, public[0]), **JSON)
    kept = client.post(url, {"member": public[0].pk}, **JSON)  # unticked: absent
    assert kept.status_code == 409
    assert "ne peut pas être noté absent" in kept.json()["message"]
    assert kept.json()["present"] is True and session.members.filter(pk=public[0].pk).exists()

    left = client.post(url, {"member": public[1].pk}, **JSON)
    assert left.status_code == 200 and not session.members.filter(pk=public[1].pk).exists()
    outsider = client.post(url, {"member": agent.pk, "present": agent.pk}, **JSON)
    assert (
        outsider.status_code == 400 and "n'appartient pas au comité" in outsider.json()["message"]
    )

    # Without the script: the block posts every member; only changes are applied.
    form = {"member": [m.pk for m in public + private], "present": [public[0].pk, public[2].pk]}
    done = client.post(url, form)
    assert done.status_code == 302 and done["Location"].endswith("#presences")
    assert set(session.members.values_list("pk", flat=True)) == {public[0].pk, public[2].pk}


def test_without_script_a_block_posts_as_a_form(client, setting):
    session, fr, agent = setting["session"], setting["fr"], setting["agent"]
    public, private = setting["public"], setting["private"]
    client.force_login(agent)
    form = {"funding_request": fr.pk, "member": [public[0].pk, private[0].pk, private[1].pk]}
    form |= {f"vote-{public[0].pk}": "for", f"score-{public[0].pk}-ancrage": "4"}
    form |= {f"vote-{private[0].pk}": "against", f"score-{private[0].pk}-ancrage": "12"}
    form |= {f"previous-{m.pk}": "" for m in (public[0], private[0], private[1])}
    page = client.post(grid_url(session, "votes/"), form)  # private[1]: row left empty
    assert page.status_code == 400
    body = text(page.content.decode())
    assert "Des lignes n'ont pas été enregistrées" in body and "doit être entre 0 et 5" in body
    assert 'value="12"' in body and 'aria-invalid="true"' in body
    assert list(Vote.objects.values_list("member_id", flat=True)) == [public[0].pk]

    vote = Vote.objects.get()
    token = f"{vote.pk}-{int(vote.recorded_at.timestamp() * 1_000_000)}"
    form |= {f"previous-{public[0].pk}": token, f"score-{private[0].pk}-ancrage": "2"}
    done = client.post(grid_url(session, "votes/"), form)
    assert done.status_code == 302 and done["Location"].endswith(f"#point-{fr.pk}")
    assert dict(Vote.objects.values_list("member_id", "vote")) == {
        public[0].pk: "for",
        private[0].pk: "against",
    }
    assert Vote.objects.get(member=public[0]).recorded_at == vote.recorded_at  # unchanged row
