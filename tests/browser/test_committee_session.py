"""Scenarios 3 and 4: a LEADER committee session planned by an agent, scored and voted by
a member and (for the others) by the agent, checked for validity, closed, its minutes
downloaded; then the public page, without login, shows the selected project. The agent's
other desks (funders' view, observatory) are checked on the way."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CommitteeSession, FundingRequest, RequestState
from engine.transitions import transition_apply
from tests import factories as f
from tests.engine import walk

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

GOOD = {
    "Ancrage territorial et besoin local": "4",
    "Caractère innovant (méthode ou contenu)": "3",
    "Contribution aux transitions": "4",
    "Partenariat et coopération": "2",
    "Économie et emploi locaux": "1,5",
}
WEAK = {"Ancrage territorial et besoin local": "1", "Contribution aux transitions": "2"}


def awaiting_committee(agent, title):
    case, _porteur, _ = walk.instructing_case(walk.LEADER_PLAN, agent=agent, title=title)
    fr = case.funding_requests.get()
    transition_apply(
        instance=fr,
        name="submit_to_committee",
        actor=agent,
        comment="Instruction favorable.",
        data={"pre_score": "14"},
    )
    return FundingRequest.objects.get(pk=fr.pk)


def vote(page, fr, choice, scores, member=None):
    """Fill the vote form of one agenda item and record it."""
    form = page.locator(f"#point-{fr.pk} form.vote-form")
    if member is not None:
        form.get_by_label("Membre", exact=True).select_option(label=member)
    form.get_by_label(choice, exact=True).check()
    for label, points in scores.items():
        form.get_by_label(label, exact=True).fill(points)
    form.get_by_role("button", name="Enregistrer le vote").click()
    expect(page.locator(".flash")).to_be_visible()


def test_committee_session_scored_voted_closed_then_public_page(new_page):
    agent = f.agent(first_name="Claire", last_name="Martin")
    mayor = f.committee_member(first_name="Paul", last_name="Élu")
    farmer = f.committee_member("private", "agriculture", first_name="Anne", last_name="Champ")
    guide = f.committee_member("private", "tourisme", first_name="Tom", last_name="Guide")
    f.committee_member("private", "associations", first_name="Lise", last_name="Absente")
    halle = awaiting_committee(agent, "Halle gourmande de Monestiés")
    parcours = awaiting_committee(agent, "Parcours lumineux de Carmaux")
    today = timezone.localdate()

    # The agent plans the session; a missing date is refused, announced, focused.
    desk = new_page()
    login(desk, agent, f.PASSWORD)
    desk.get_by_role("link", name="Comité LEADER").click()
    expect(desk.locator("main")).to_contain_text("2 demandes LEADER en attente du comité")
    check_page(desk, "comite-liste")
    desk.get_by_role("link", name="Planifier une séance").click()
    expect(desk.locator("main")).to_contain_text("Halle gourmande de Monestiés")
    check_page(desk, "comite-nouvelle-seance")
    desk.get_by_role("button", name="Planifier la séance").click()
    expect(desk.locator("#erreurs")).to_be_focused()
    expect(desk.locator("#erreurs")).to_contain_text("Indiquez la date de la séance")
    desk.get_by_label("Date de la séance").fill(today.isoformat())
    for member in ("Paul Élu", "Anne Champ", "Tom Guide"):
        desk.get_by_label(member).check()
    desk.get_by_role("button", name="Planifier la séance").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(
        f"Comité de programmation du {today:%d/%m/%Y}"
    )
    session = CommitteeSession.objects.get()
    assert set(session.members.all()) == {mayor, farmer, guide}
    validity = desk.locator("section.validity")
    expect(validity).to_contain_text("3 membres présents sur 4 (75 %)")
    expect(validity).to_contain_text("2 projets de l'ordre du jour sans vote enregistré")

    # A member of the public college scores and votes for himself.
    member = new_page()
    login(member, mayor, f.PASSWORD)
    member.get_by_role("link", name="Comité LEADER").click()
    member.get_by_role("link", name=f"Séance du {today:%d/%m/%Y}").click()
    expect(member.locator(f"#point-{halle.pk} legend").first).to_contain_text("Votre vote")
    vote(member, halle, "Pour", GOOD)
    expect(member.locator(f"#point-{halle.pk}")).to_contain_text(
        "Vote déjà enregistré : Pour, 14,50 — le modifier"
    )
    vote(member, parcours, "Contre", WEAK)
    expect(member.locator(f"#point-{parcours.pk} table.votes")).to_contain_text("Paul Élu")
    expect(member.get_by_role("button", name="Clore la séance")).to_have_count(0)
    check_page(member, "comite-seance-membre")

    # The validity check, live: public authorities hold every vote cast so far.
    desk.reload()
    validity = desk.locator("section.validity")
    # revised rule 12: validity is per item, the page names the items at risk
    expect(validity).to_contain_text("Le comité ne peut pas délibérer valablement sur 2 projets")
    expect(validity).to_contain_text(
        "Règle des 49 % non respectée pour « Halle gourmande de Monestiés »"
    )
    # The agent records the votes the two private members gave in the room.
    for name, group in (("Anne Champ", "agriculture"), ("Tom Guide", "tourisme")):
        vote(desk, halle, "Pour", GOOD, member=f"{name} ({group})")
        vote(desk, parcours, "Contre", WEAK, member=f"{name} ({group})")
    expect(validity).to_contain_text("Le comité peut délibérer valablement")
    item = text(desk, f"#point-{halle.pk}")
    assert "Pour 3 · Contre 0 · Abstention 0" in item
    assert "autorités publiques : 1 (33,33 %)" in item, item
    assert "Note moyenne 14,50 / 23" in item, item  # (4 + 3 + 4 + 2 + 1,5) for all three
    check_page(desk, "comite-seance-votes")

    # Close: outcomes applied and shown, minutes downloadable.
    desk.get_by_label("Observations (facultatif)").fill("Séance tenue à la salle du PETR.")
    desk.get_by_role("button", name="Clore la séance").click()
    expect(desk.locator(".flash")).to_be_visible()
    expect(desk.locator(f"#point-{halle.pk}")).to_contain_text("Sélectionné")
    expect(desk.locator(f"#point-{parcours.pk}")).to_contain_text("Rejeté")
    expect(desk.get_by_role("button", name="Enregistrer le vote")).to_have_count(0)
    assert FundingRequest.objects.get(pk=halle.pk).state == RequestState.SELECTED
    assert FundingRequest.objects.get(pk=parcours.pk).state == RequestState.REJECTED
    check_page(desk, "comite-seance-close")
    with desk.expect_download() as download:
        desk.get_by_role("link", name="Télécharger le procès-verbal (PDF)").click()
    assert download.value.suggested_filename == f"proces-verbal-comite-{today:%Y-%m-%d}.pdf"
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    desk.get_by_role("link", name="Comité LEADER").click()
    expect(desk.locator("main")).to_contain_text("Séances closes et leurs décisions (1)")

    # The member's page was still open: a late vote is refused, the reason shown and focused.
    late = member.locator(f"#point-{halle.pk} form.vote-form")
    late.get_by_label("Abstention", exact=True).check()
    late.get_by_role("button", name="Modifier le vote").click()  # the vote, pre-filled
    expect(member.locator("#erreurs")).to_be_focused()
    expect(member.locator("#erreurs")).to_contain_text("La séance est close")
    expect(member.locator(f"#point-{halle.pk}")).to_contain_text("Sélectionné")
    assert member.title().startswith("Erreur — ")

    # The agent's other desks: funders' view and observatory.
    desk.get_by_role("link", name="Conférence des financeurs").click()
    expect(desk.get_by_role("heading", level=1)).to_be_visible()
    expect(desk.locator("main")).to_contain_text("Halle gourmande de Monestiés")
    check_page(desk, "financeurs")
    desk.get_by_role("link", name="Observatoire").click()
    expect(desk.get_by_role("heading", level=1)).to_be_visible()
    check_page(desk, "observatoire")

    # Scenario 4: anyone, without login, sees the selected project on the public page.
    public = new_page()
    public.goto("/transparence/")
    expect(public.get_by_role("link", name="Se connecter")).to_be_visible()
    body = text(public)
    assert f"Séance du {today:%d/%m/%Y}" in body
    assert "Halle gourmande de Monestiés" in body and "Sélectionné" in body
    assert "Parcours lumineux de Carmaux" in body and "Rejeté" in body
    assert "dont 40 000,00 € sélectionnés" in body
    assert "Paul Élu" not in body and mayor.email not in body  # no personal data
    check_page(public, "transparence")
    with public.expect_download() as download:
        public.locator(f'a[href$="/transparence/comite/{session.pk}/proces-verbal.pdf"]').click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
