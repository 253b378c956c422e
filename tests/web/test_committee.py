"""LEADER committee pages, as an agent and committee members use them: plan a session,
score and vote, see the validity check with its figures, close (refused, then accepted),
outcomes applied, minutes as a PDF; who may vote for whom."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest

from cases.models import CommitteeSession, FundingRequest, RequestState, User, Vote
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

pytestmark = pytest.mark.django_db

GOOD = {"ancrage": "4", "innovation": "3", "transition": "4", "cooperation": "2", "economie": "1"}
WEAK = {"ancrage": "1", "innovation": "1", "transition": "2"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


_seq = iter(range(10**6))


def member(college="public", group=""):
    return User.objects.create(
        username=f"membre{next(_seq)}",
        first_name="Membre",
        last_name=f"N{next(_seq)}",
        role=User.Role.COMMITTEE_MEMBER,
        college=college,
        interest_group=group,
    )


def awaiting(agent, title, pre_score="14", summary="Projet solide, bien ancré."):
    case, _porteur, _ = walk.instructing_case(walk.LEADER_PLAN, agent=agent, title=title)
    fr = case.funding_requests.get()
    transition_apply(
        instance=fr,
        name="submit_to_committee",
        actor=agent,
        comment=summary,
        data={"pre_score": pre_score},
    )
    return FundingRequest.objects.select_related("case__organisation").get(pk=fr.pk)


def scores_post(fr, vote, scores, member_id=None):
    data = {"funding_request": fr.pk, "vote": vote}
    if member_id is not None:
        data["member"] = member_id
    for code, points in scores.items():
        data[f"score_{code}"] = points
    return data


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


@pytest.fixture
def committee():
    """Seven members: 3 public, 1 agriculture, 1 associations, 1 entreprises, 1 tourisme."""
    public = [member() for _ in range(3)]
    private = [
        member("private", g) for g in ("agriculture", "associations", "entreprises", "tourisme")
    ]
    return public, private


def test_agent_plans_a_session_with_its_agenda(client, committee):
    public, private = committee
    agent = f.agent()
    fr = awaiting(agent, "Tiers-lieu de Cordes", summary="Avis favorable de l'instructeur.")
    client.force_login(agent)

    page = client.get("/comite/seances/nouvelle/")
    assert page.status_code == 200
    html = text(page)
    assert "Tiers-lieu de Cordes" in html and fr.case.organisation.name in html
    assert "40 000,00 €" in html and "Avis favorable de l'instructeur." in html
    assert "14,00" in html  # pre-score
    assert "agriculture" in html and "Collège privé" in html and "autorités publiques" in html
    assert f'for="membre-{private[0].pk}"' in html

    bad = client.post("/comite/seances/nouvelle/", {"date": "pas une date", "members": []})
    assert bad.status_code == 400
    html = text(bad)
    assert "Indiquez la date de la séance" in html and 'href="#id_date"' in html
    assert 'aria-invalid="true"' in html and "Cochez les membres présents" in html
    assert not CommitteeSession.objects.exists()

    chosen = [public[0].pk, private[0].pk, private[1].pk]
    kept = client.post("/comite/seances/nouvelle/", {"date": "", "members": chosen})
    assert kept.status_code == 400
    assert f'value="{private[1].pk}" id="membre-{private[1].pk}" checked' in text(kept)

    done = client.post("/comite/seances/nouvelle/", {"date": "2026-06-04", "members": chosen})
    session = CommitteeSession.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/comite/seances/{session.pk}/"
    assert session.date == dt.date(2026, 6, 4) and session.state == "planned"
    assert set(session.members.values_list("pk", flat=True)) == set(chosen)
    assert list(session.agenda.values_list("pk", flat=True)) == [fr.pk]

    listing = text(client.get("/comite/"))
    assert "Séance du 04/06/2026" in listing and "Planifier une séance" in listing


def test_members_vote_validity_close_and_minutes(client, committee):
    public, private = committee
    agent = f.agent()
    good = awaiting(agent, "Halle gourmande de Monestiés")
    weak = awaiting(agent, "Parcours lumineux de Carmaux", pre_score="11")
    present = public + private[:1]  # 4 of 7: quorum ok, but public = 3 of 4 votes (75 %)
    client.force_login(agent)
    client.post(
        "/comite/seances/nouvelle/",
        {"date": "2026-06-04", "members": [m.pk for m in present]},
    )
    session = CommitteeSession.objects.get()
    url = f"/comite/seances/{session.pk}/"

    # Each member records their own vote and scores.
    for m in present:
        client.force_login(m)
        page = client.get(url)
        assert page.status_code == 200 and "Votre vote" in text(page)
        done = client.post(f"{url}votes/", scores_post(good, "for", GOOD))
        assert done.status_code == 302 and done["Location"] == f"{url}#point-{good.pk}"
    vote = Vote.objects.get(member=present[0], funding_request=good)
    assert vote.vote == "for" and vote.scores["ancrage"] == 4
    assert vote.total_score == Decimal("14") and vote.recorded_by == present[0]

    # A member's page pre-fills their vote; a bad score is refused with the typed values.
    client.force_login(present[0])
    bad = client.post(
        f"{url}votes/", scores_post(weak, "against", {**WEAK, "innovation": "beaucoup"})
    )
    assert bad.status_code == 400
    html = text(bad)
    assert "indiquez un nombre de points" in html and 'value="beaucoup"' in html
    assert f'href="#point-{weak.pk}-score_innovation"' in html and 'aria-invalid="true"' in html
    over = client.post(f"{url}votes/", scores_post(weak, "against", {"ancrage": "9"}))
    assert over.status_code == 400
    assert "doit être entre 0 et 5" in text(over) and 'value="9"' in text(over)
    assert not Vote.objects.filter(funding_request=weak).exists()

    # The agent records votes on the weak project for the members.
    client.force_login(agent)
    for m in present:
        client.post(f"{url}votes/", scores_post(weak, "against", WEAK, member_id=m.pk))
    assert Vote.objects.filter(funding_request=weak, vote="against").count() == 4

    # Live validity check: the 49 % rule fails, with the figures.
    page = client.get(url)
    html = text(page)
    assert "4 membres présents sur 7 (57,14 %)" in html and "requis : 50 %" in html
    assert "Règle des 49 % non respectée pour « Halle gourmande de Monestiés »" in html
    assert "« autorités publiques » détient 3 des 4 voix exprimées (75 %)" in html
    assert "autorités publiques : 3 (75 %) ; agriculture : 1 (25 %)" in html
    assert "Clore la séance" in html

    # Revised rule 12: validity per item; closing now would adjourn both with the reason.
    assert "ne peut pas délibérer valablement sur 2 projets" in html
    assert "Délibération non valable" in html
    session.refresh_from_db()
    assert session.state == "planned" and not session.decisions.exists()

    # Three more private members join; public = 3 of 7 votes (42,86 %).
    session.members.add(*private[1:])
    for m in private[1:]:
        client.post(f"{url}votes/", scores_post(good, "for", GOOD, member_id=m.pk))
        client.post(f"{url}votes/", scores_post(weak, "against", WEAK, member_id=m.pk))
    html = text(client.get(url))
    assert "Le comité peut délibérer valablement" in html
    assert "7 membres présents sur 7 (100 %)" in html

    closed = client.post(f"{url}cloture/", {"comment": "Séance de juin."})
    assert closed.status_code == 302
    session.refresh_from_db()
    assert session.state == "closed"
    assert FundingRequest.objects.get(pk=good.pk).state == RequestState.SELECTED
    assert FundingRequest.objects.get(pk=weak.pk).state == RequestState.REJECTED
    html = text(client.get(url))
    assert "Sélectionné" in html and "Rejeté" in html and "proces-verbal.pdf" in html
    assert "Enregistrer le vote" not in html

    # Votes are closed with the session.
    late = client.post(f"{url}votes/", scores_post(good, "against", GOOD, member_id=public[0].pk))
    assert late.status_code == 409 and "La séance est close" in text(late)

    # Minutes.
    pdf = client.get(f"{url}proces-verbal.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    ctx = pdf.context
    assert ctx["present"] == 7 and ctx["total"] == 7 and ctx["quorum_rate"] == "50 %"
    items = {item.fr.pk: item for item in ctx["items"]}
    assert items[good.pk].outcome == "selected" and items[weak.pk].outcome == "rejected"
    assert items[good.pk].decision.votes_for == 7
    averages = {c["code"]: c["average"] for c in items[good.pk].criteria_averages}
    assert averages == {
        "ancrage": Decimal("4.00"),
        "innovation": Decimal("3.00"),
        "transition": Decimal("4.00"),
        "cooperation": Decimal("2.00"),
        "economie": Decimal("1.00"),
    }
    assert items[weak.pk].average == Decimal("4.00")
    groups = {(g["college"], g["group"]): g["count"] for g in ctx["members"]}
    assert groups[("Collège public", "autorités publiques")] == 3
    assert groups[("Collège privé", "agriculture")] == 1
    html = text_of_template(pdf)
    assert "Signatures" in html and "Halle gourmande de Monestiés" in html


def text_of_template(response) -> str:
    from django.template.loader import render_to_string

    return render_to_string("web/pdf/minutes.html", response.context.flatten())


def test_quorum_failure_is_shown_with_figures(client, committee):
    public, private = committee
    agent = f.agent()
    awaiting(agent, "Jardin partagé")
    client.force_login(agent)
    client.post("/comite/seances/nouvelle/", {"date": "2026-06-04", "members": [private[0].pk]})
    session = CommitteeSession.objects.get()
    html = text(client.get(f"/comite/seances/{session.pk}/"))
    assert "1 membre présent sur 7" in html
    assert "1 projet de l'ordre du jour sans vote enregistré : il serait ajourné" in html
    assert "Quorum non atteint : 1 membre(s) présent(s) sur 7, il en faut au moins 4" in html
    minutes = client.get(f"/comite/seances/{session.pk}/proces-verbal.pdf")
    assert minutes.status_code == 404  # drawn up at the close
    # Revised rule 12: the session closes; the item is adjourned with its reason.
    closed = client.post(f"/comite/seances/{session.pk}/cloture/")
    assert closed.status_code == 302 and CommitteeSession.objects.get().state == "closed"
    html = text(client.get(f"/comite/seances/{session.pk}/"))
    assert "Délibération non valable" in html and "Quorum non atteint" in html
    minutes = client.get(f"/comite/seances/{session.pk}/proces-verbal.pdf")
    assert minutes.status_code == 200
    (item,) = minutes.context["items"]
    assert item.outcome == "adjourned" and not item.valid
    assert "délibération non valable — projet ajourné" in text_of_template(minutes)


def test_porteur_cannot_vote_and_a_member_not_for_another(client, committee):
    public, private = committee
    agent = f.agent()
    fr = awaiting(agent, "Maison de santé")
    client.force_login(agent)
    client.post(
        "/comite/seances/nouvelle/",
        {"date": "2026-06-04", "members": [m.pk for m in public + private]},
    )
    session = CommitteeSession.objects.get()
    url = f"/comite/seances/{session.pk}/"

    porteur = fr.case.organisation.users.get()
    client.force_login(porteur)
    assert client.get("/comite/").status_code == 403
    assert client.get(url).status_code == 403
    refused = client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=public[0].pk))
    assert refused.status_code == 403 and "Votre rôle ne permet pas" in text(refused)
    assert client.post(f"{url}cloture/").status_code == 403
    assert client.get(f"{url}proces-verbal.pdf").status_code == 403
    assert client.get("/comite/seances/nouvelle/").status_code == 403

    client.force_login(public[0])
    other = client.post(f"{url}votes/", scores_post(fr, "for", GOOD, member_id=public[1].pk))
    assert other.status_code == 403 and "Un membre ne vote que pour lui-même" in text(other)
    assert not Vote.objects.exists()
    assert client.get("/comite/seances/nouvelle/").status_code == 403
    # A member may not close the session either, and has no button for it.
    assert "Clore la séance</button>" not in text(client.get(url))
    assert client.post(f"{url}cloture/").status_code == 403
    assert CommitteeSession.objects.get().state == "planned"

    # Unknown session: 404, not a 500.
    client.force_login(agent)
    assert client.get("/comite/seances/999999/").status_code == 404
    assert client.post("/comite/seances/999999/votes/", {}).status_code == 404


def test_session_page_runs_bounded_queries(client, django_assert_max_num_queries):
    agent = f.agent()
    present = [member() for _ in range(2)] + [
        member("private", g) for g in ("agriculture", "tourisme", "associations")
    ]
    frs = [awaiting(agent, f"Projet {i}") for i in range(4)]
    client.force_login(agent)
    client.post(
        "/comite/seances/nouvelle/", {"date": "2026-06-04", "members": [m.pk for m in present]}
    )
    session = CommitteeSession.objects.get()
    for fr in frs:
        for m in present:
            client.post(
                f"/comite/seances/{session.pk}/votes/",
                scores_post(fr, "for", GOOD, member_id=m.pk),
            )
    assert Vote.objects.count() == 20
    with django_assert_max_num_queries(25):
        page = client.get(f"/comite/seances/{session.pk}/")
    assert page.status_code == 200 and "Projet 3" in text(page)
    with django_assert_max_num_queries(12):
        assert client.get("/comite/").status_code == 200
