"""Issue 12, the committee grid: the session's secretary reaches the grid from the session
page and fills it by keyboard only (Tab, Space, letters, digits, Enter; no click, no
``fill``) at 1280 px — a presence, then each member's vote and scores, one row saved at a
time with its status announced and the item's validity following; the votes are checked in
the database. Then a member's own vote page at 390 px: no horizontal overflow, nothing
off-screen, targets big enough, no serious accessibility violation."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import committee as committee_service
from cases.models import Vote
from tests import factories as f

from .conftest import _watch_csp, check_page, focused, tab_to
from .test_committee_session import awaiting_committee
from .test_keyboard import keyboard_login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CODES = ("ancrage", "innovation", "transition", "cooperation", "economie")


def fill_row(page, fr, member, choice_key: str, points: list[str]):
    """From anywhere before it, Tab to the member's vote on the item, choose by its first
    letter, type each score (Tab between cells), then Enter saves the row."""
    vote_id = f"point-{fr.pk}-m{member.pk}-vote"
    tab_to(page, lambda e: e["id"] == vote_id)
    page.keyboard.press(choice_key)
    for code, value in zip(CODES, points, strict=False):
        page.keyboard.press("Tab")
        assert focused(page)["id"] == f"point-{fr.pk}-m{member.pk}-{code}"
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    return page.locator(f"#point-{fr.pk}-m{member.pk}-etat")


def test_secretary_fills_the_grid_by_keyboard_only(new_page):
    agent = f.agent(first_name="Claire", last_name="Martin")
    mayor = f.committee_member(first_name="Paul", last_name="Élu")
    farmer = f.committee_member("private", "agriculture", first_name="Anne", last_name="Champ")
    guide = f.committee_member("private", "tourisme", first_name="Tom", last_name="Guide")
    f.committee_member("private", "associations", first_name="Lise", last_name="Absente")
    halle = awaiting_committee(agent, "Halle gourmande de Monestiés")
    session = committee_service.session_create(
        actor=agent,
        date=timezone.localdate(),
        members=[mayor.pk, farmer.pk],
        scheme="LEADER",
    )

    desk = new_page()
    keyboard_login(desk, agent)
    desk.goto(f"/comite/seances/{session.pk}/")
    tab_to(desk, lambda e: e["tag"] == "a" and e["text"].startswith("Saisir les présences"))
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Grille de saisie")
    validity = desk.locator(f"#point-{halle.pk}-validite")
    expect(validity).to_contain_text("2 sièges comptés pour le quorum")

    # Presence: Space ticks the guide, saved at once, announced in the row's status.
    tab_to(desk, lambda e: e["id"] == f"presence-{guide.pk}")
    desk.keyboard.press("Space")
    expect(desk.locator(f"#presence-{guide.pk}-etat")).to_have_text("Tom Guide : présent(e).")
    expect(desk.locator(f"#presence-{guide.pk}-etat")).to_have_attribute("role", "status")
    expect(validity).to_contain_text("3 sièges comptés pour le quorum")
    assert session.members.filter(pk=guide.pk).exists()
    expect(desk.locator(f"#point-{halle.pk}-m{guide.pk}-vote")).to_be_enabled()

    # Votes in the grid's order (private college first): an invalid score is refused in
    # French and nothing saved, then corrected; the item's validity follows each row.
    status = fill_row(desk, halle, farmer, "p", ["9"])
    expect(status).to_contain_text("doit être entre 0 et 5")
    expect(status).to_have_class("cell-status error")
    ancrage = desk.locator(f"#point-{halle.pk}-m{farmer.pk}-ancrage")
    expect(ancrage).to_have_attribute("aria-invalid", "true")
    assert not Vote.objects.filter(member=farmer).exists()
    assert focused(desk)["id"] == f"point-{halle.pk}-m{farmer.pk}-ancrage"  # still there
    desk.keyboard.press("Backspace")
    desk.keyboard.type("4")
    desk.keyboard.press("Enter")
    expect(status).to_have_text("Enregistré : Pour, 4,00.")
    expect(ancrage).not_to_have_attribute("aria-invalid", "true")
    expect(validity).to_contain_text("Délibération non valable")
    expect(validity).to_contain_text("Règle des 49 % non respectée")
    status = fill_row(desk, halle, guide, "c", ["1", "1"])
    expect(status).to_have_text("Enregistré : Contre, 2,00.")
    expect(validity).to_contain_text("détient 1 des 2 voix")
    status = fill_row(desk, halle, mayor, "p", ["4", "3", "4", "2", "1,5"])
    expect(status).to_have_text("Enregistré : Pour, 14,50.")
    expect(validity).to_contain_text("Délibération valable")
    expect(validity).not_to_contain_text("non valable")
    expect(desk.locator("#grille-synthese")).to_contain_text("peut délibérer valablement")
    # The member's name stays in view beside the last column (sticky row header).
    seen = desk.evaluate(
        """(id) => { const th = document.getElementById(id).closest('th');
             const box = th.closest('.table-scroll').getBoundingClientRect();
             const r = th.getBoundingClientRect();
             return r.left >= box.left - 1 && r.right <= box.right + 1; }""",
        f"point-{halle.pk}-m{mayor.pk}",
    )
    assert seen, "the row header scrolled out of view"
    check_page(desk, "comite-grille-saisie")

    # An explicit edit of a recorded vote: « Modifié », the former vote named.
    for _ in CODES:
        desk.keyboard.press("Shift+Tab")
    assert focused(desk)["id"] == f"point-{halle.pk}-m{mayor.pk}-vote"
    desk.keyboard.press("a")
    desk.keyboard.press("Enter")
    expect(status).to_have_text("Modifié : Pour, 14,50 remplacé par Abstention, 14,50.")

    votes = {v.member_id: v for v in Vote.objects.filter(session=session, funding_request=halle)}
    assert set(votes) == {mayor.pk, farmer.pk, guide.pk}
    assert votes[mayor.pk].vote == "abstain" and str(votes[mayor.pk].total_score) == "14.50"
    assert votes[farmer.pk].vote == "for" and votes[farmer.pk].scores == {"ancrage": 4}
    assert votes[guide.pk].vote == "against"
    assert votes[guide.pk].scores == {"ancrage": 1, "innovation": 1}
    assert all(v.recorded_by == agent for v in votes.values())


def test_the_members_vote_page_fits_a_phone(browser, live_server):
    agent = f.agent()
    mayor = f.committee_member(first_name="Paul", last_name="Élu")
    awaiting_committee(agent, "Halle gourmande de Monestiés, marché couvert et producteurs")
    session = committee_service.session_create(
        actor=agent, date=timezone.localdate(), members=[mayor.pk], scheme="LEADER"
    )
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    try:
        phone = context.new_page()
        _watch_csp(phone)
        phone.set_default_timeout(15000)
        keyboard_login(phone, mayor)
        phone.goto(f"/comite/seances/{session.pk}/")
        expect(phone.locator("form.vote-form legend").first).to_contain_text("Votre vote")
        layout = phone.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              const out = [], small = [];
              for (const el of document.querySelectorAll(
                  'main a, main button, main input:not([type=hidden]), main select, main textarea')) {
                const r = el.getBoundingClientRect();
                if (!r.width || el.closest('.table-scroll')) continue;
                if (r.left < 0 || r.right > width + 0.5) out.push(el.outerHTML.slice(0, 80));
                const box = el.type === 'radio' || el.type === 'checkbox'
                  ? el.closest('.radio') || el : el;
                const b = box.getBoundingClientRect();
                if (el.tagName !== 'A' && (b.height < 24 || b.width < 24))
                  small.push(el.outerHTML.slice(0, 80));
              }
              const form = document.querySelector('form.vote-form');
              const thumbs = [...form.querySelectorAll(
                  'fieldset.choice .radio, input[type=text], button')]
                .map(el => Math.round(el.getBoundingClientRect().height));
              return {width, scroll: document.documentElement.scrollWidth, out, small, thumbs};
            }"""
        )
        assert layout["scroll"] <= layout["width"], layout
        assert not layout["out"], layout["out"]
        assert not layout["small"], layout["small"]
        # a thumb's target: each choice's whole line, each score and the button ≥ 44 px high
        assert len(layout["thumbs"]) == 3 + 5 + 1 and min(layout["thumbs"]) >= 44, layout
        check_page(phone, "comite-vote-membre-390")
    finally:
        context.close()
