"""« Ma trésorerie » in a browser (issue 13): a porteur reads its forecast (chart and
table), types a bad then a good loan rate, declares its cash with a typo then correctly,
adds a planned invoice, and fetches the bank PDF; the territory's agent reads the same
page read-only. Every step at 1280 and 390 px with axe-core (no serious or critical
violation) and no horizontal overflow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases import builders
from cases.models import Organisation, PlannedInvoice
from tests import factories as f

from .conftest import check_page, login

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_treasury_page_chart_rate_declaration_and_pdf(page, new_page):
    porteur = f.porteur()
    org = porteur.organisation
    agent = f.agent(epci=org.epci)
    etat = f.funder_instructor("ETAT")
    Organisation.objects.filter(pk=org.pk).update(cash_at_hand=Decimal("2000.00"))
    case = builders.dossier(
        porteur=porteur,
        stage="committed",
        agent=agent,
        instructor=etat,
        title="Rénovation de l'école",
        receipt="2026-03-02",
        complete="2026-03-10",
        granted="2026-04-15",
        committed="2026-04-20",
        amount="40000.00",
    )

    login(page, porteur, f.PASSWORD)
    page.get_by_role("link", name="Ma trésorerie").click()
    page.wait_for_url("**/ma-tresorerie/")
    chart = page.get_by_role("img", name="Solde de trésorerie prévu")
    assert chart.count() == 1
    assert page.get_by_role("table", name="Prévision mois par mois").count() == 1
    check_page(page, "tresorerie")

    # the loan rate: a bad value is refused in French beside the field
    rate = page.get_by_label("Taux annuel du prêt (%)")
    rate.fill("trois")
    page.get_by_role("button", name="Recalculer").click()
    page.wait_for_load_state("networkidle")
    assert "taux du prêt relais" in page.locator("#id_taux_error").inner_text()
    assert page.get_by_label("Taux annuel du prêt (%)").get_attribute("aria-invalid") == "true"
    check_page(page, "taux-refuse")
    page.get_by_label("Taux annuel du prêt (%)").fill("3,5")
    page.get_by_role("button", name="Recalculer").click()
    page.wait_for_load_state("networkidle")
    assert "3,5 % par an" in page.locator("#pret-relais").inner_text()

    # the declaration: a typo keeps what was typed, with the error summary
    page.get_by_label("Trésorerie disponible aujourd'hui (€)").fill("12 500,5x")
    page.get_by_role("button", name="Enregistrer la trésorerie").click()
    page.wait_for_load_state("networkidle")
    summary = page.locator("#erreurs")
    assert summary.is_visible()
    assert "trésorerie disponible" in summary.inner_text().lower()
    assert page.get_by_label("Trésorerie disponible aujourd'hui (€)").input_value() == "12 500,5x"
    check_page(page, "declaration-refusee")
    page.get_by_label("Trésorerie disponible aujourd'hui (€)").fill("12 500,50")
    page.get_by_role("button", name="Enregistrer la trésorerie").click()
    page.wait_for_load_state("networkidle")
    assert "Trésorerie déclarée" in page.locator(".flash").inner_text()
    org.refresh_from_db()
    assert org.cash_at_hand == Decimal("12500.50")

    # a planned invoice on the dossier
    card = page.locator(f"#dossier-{case.pk}")
    card.get_by_label("Date de paiement prévue").fill("2027-02-15")
    card.get_by_label("Montant TTC (€)").fill("25 000,00")
    card.get_by_label("Libellé").fill("Gros œuvre")
    card.get_by_role("button", name="Ajouter la facture").click()
    page.wait_for_load_state("networkidle")
    assert PlannedInvoice.objects.filter(case=case, amount=Decimal("25000.00")).exists()
    assert "Gros œuvre" in page.locator(f"#dossier-{case.pk}").inner_text()
    check_page(page, "formulaires")

    # the PDF for the bank
    pdf = page.request.get("/ma-tresorerie/pret-relais.pdf?taux=3,5")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # the agent reads the same page, without the forms
    other = new_page()
    login(other, agent, f.PASSWORD)
    other.goto(f"/organisations/{org.pk}/tresorerie/")
    assert other.get_by_role("heading", name=f"Trésorerie de {org.name}").count() == 1
    assert other.get_by_role("button", name="Enregistrer la trésorerie").count() == 0
    check_page(other, "tresorerie-agent")
