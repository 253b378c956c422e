"""The bulk page in a browser (issue 12): a funder ticks its requests in instruction with
« Tout sélectionner sur cette page », grants them from a pasted spreadsheet column, checks
the total, applies, reads the per-item report; an agent ticks dossiers in the list and
sends one message. Every step at 1280 and 390 px with axe-core."""

from __future__ import annotations

import pytest

from cases.models import Message, RequestState
from engine.transitions import transition_apply
from tests import factories as f
from tests.web.test_agent import commune_of_epci, day, make_case, org

from .conftest import check_page, login, text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTHS = (1280, 390)


def at_both_widths(page, name: str) -> None:
    """axe-core and a screenshot at each width; the page never scrolls sideways."""
    original = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll} px wide at {width} px"
        check_page(page, f"{name}-{width}")
    page.set_viewport_size(original)


def test_funder_grants_a_selection_from_a_pasted_column(page):
    etat = f.funder_instructor("ETAT")
    porteur = f.porteur(org(0))
    frs = []
    for index in range(3):
        case = make_case(porteur, state="instruction", title=f"Salle des fêtes {index}", theme="")
        fr = case.funding_requests.get()
        transition_apply(instance=fr, name="start_instruction", actor=etat, data={"date": day(30)})
        frs.append(fr)
    login(page, etat, f.PASSWORD)
    page.goto("/financeurs/")
    at_both_widths(page, "financeurs-selection")
    bar = page.locator("#selection-attente")
    bar.get_by_label("Tout sélectionner sur cette page").check()
    for fr in frs:
        assert page.locator(f"#sel-attente-{fr.pk}").is_checked()
    bar.get_by_role("button", name="Traiter la sélection").click()
    assert "3 demandes de financement sélectionnées" in text(page)
    page.get_by_label("Accorder").check()
    page.get_by_role("button", name="Continuer").click()
    column = "\n".join(
        [
            f"{frs[0].case.reference}\t20 000,00",
            f"{frs[1].case.reference}\t15000.00",
            f"{frs[2].case.reference}\t99 999,00",  # more than the 40 000,00 € requested
        ]
    )
    page.get_by_label("Colonne des montants (référence ; montant)").fill(column)
    page.get_by_label("Date de notification de la décision").fill(day(2))
    at_both_widths(page, "groupe-saisie")
    page.get_by_role("button", name="Vérifier avant d'appliquer").click()
    assert "3 demandes recevront l'action « Accorder », pour un total de 134 999,00 €" in text(page)
    at_both_widths(page, "groupe-verification")
    page.get_by_role("button", name="Appliquer à 3 demandes").click()
    report = text(page)
    assert "2 appliqués, 1 refusé" in report
    assert "dépasse le montant demandé" in report
    at_both_widths(page, "groupe-compte-rendu")
    page.get_by_role("link", name=frs[2].case.reference).first.click()
    assert f"/dossiers/{frs[2].case.pk}/" in page.url
    states = {fr.pk: fr.__class__.objects.get(pk=fr.pk).state for fr in frs}
    assert states == {
        frs[0].pk: RequestState.GRANTED,
        frs[1].pk: RequestState.GRANTED,
        frs[2].pk: RequestState.INSTRUCTING,
    }


def test_agent_sends_one_message_to_ticked_dossiers(page):
    agent = f.agent(epci=commune_of_epci(0).epci)
    porteur = f.porteur(org(0))
    cases = [make_case(porteur, state="submitted", title=f"Voirie {i}", theme="") for i in range(2)]
    login(page, agent, f.PASSWORD)
    page.goto("/agent/")
    at_both_widths(page, "agent-selection")
    for case in cases:
        page.get_by_label(f"Sélectionner le dossier {case.reference}").check()
    page.get_by_role("button", name="Traiter la sélection").click()
    page.get_by_label("Envoyer un message au porteur").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Message aux porteurs").fill("Merci de joindre le devis signé.")
    page.get_by_role("button", name="Vérifier avant d'appliquer").click()
    assert "Le message sera envoyé sur 2 dossiers" in text(page)
    page.get_by_role("button", name="Appliquer à 2 dossiers").click()
    assert "2 appliqués, 0 refusé" in text(page)
    at_both_widths(page, "agent-compte-rendu")
    assert Message.objects.filter(body="Merci de joindre le devis signé.").count() == 2


def test_funder_pays_the_claims_of_its_list(page):
    """« Payer » in bulk: every claim of the list ticked, each paid the amount it asks but
    one, paid less from the column; the report, at both widths."""
    from cases.models import ClaimState, PaymentClaim
    from tests.api.test_bulk_pay import verified_claims

    claims, etat = verified_claims(2, amount="6000.00")
    login(page, etat, f.PASSWORD)
    page.goto("/financeurs/#h-paiements")
    bar = page.locator("#selection-paiements")
    bar.get_by_label("Tout sélectionner sur cette page").check()
    bar.get_by_role("button", name="Traiter la sélection").click()
    assert "2 demandes de paiement sélectionnées" in text(page)
    page.get_by_label("Payer").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Colonne des montants (référence ; montant)").fill(
        f"{claims[1].pk}\t5 500,00"
    )
    page.get_by_label("Date du paiement").fill(day(1))
    at_both_widths(page, "groupe-paiement-saisie")
    page.get_by_role("button", name="Vérifier avant d'appliquer").click()
    assert "pour un total de 11 500,00 €" in text(page)
    page.get_by_role("button", name="Appliquer à 2 demandes").click()
    assert "2 appliqués, 0 refusé" in text(page)
    at_both_widths(page, "groupe-paiement-compte-rendu")
    paid = {c.pk: PaymentClaim.objects.get(pk=c.pk) for c in claims}
    assert {c.state for c in paid.values()} == {ClaimState.PAID}
    assert str(paid[claims[1].pk].paid_amount) == "5500.00"
