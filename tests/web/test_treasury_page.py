"""« Ma trésorerie » (issue 13): the porteur's forecast page and its bank PDF — figures as
``treasury_forecast`` computes them, who may read it (the porteur, its territory's staff;
anyone else a 404), the declarations (cash, limit, FCTVA regime, works period, planned
invoices) saved through ``cases.services.treasury`` and refused in French with what was
typed kept, the loan rate form, the PDF's grant lines."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.utils import timezone

from cases import builders, services
from cases.builders import fresh
from cases.models import Organisation, PlannedInvoice
from cases.services.treasury import MAX_PLANNED_INVOICES
from cases.treasury import treasury_forecast
from engine.errors import DomainError
from tests import factories as f
from web.treasury_chart import forecast_chart, month_label

pytestmark = pytest.mark.django_db

PAGE = "/ma-tresorerie/"
PDF = "/ma-tresorerie/pret-relais.pdf"


def amount(value) -> str:
    return floatformat(value, "2g")


@pytest.fixture
def world():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    etat = f.funder_instructor("ETAT")
    org = porteur.organisation
    Organisation.objects.filter(pk=org.pk).update(cash_at_hand=Decimal("5000.00"))
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
    return {"porteur": porteur, "agent": agent, "etat": etat, "org": fresh(org), "case": case}


def client_for(client, user):
    client.force_login(user)
    return client


def test_the_porteur_sees_its_forecast(client, world):
    response = client_for(client, world["porteur"]).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    forecast = treasury_forecast(world["org"])
    assert "<h1>Ma trésorerie</h1>" in html
    assert 'role="img"' in html and '<title id="tresorerie-titre">' in html
    assert "<caption>Prévision mois par mois" in html
    assert html.count('<th scope="row">') >= len(forecast.months)
    for month in forecast.months:
        assert f'<th scope="row">{month_label(month.month)}' in html
        assert amount(month.balance_p80) in html
    assert forecast.trough_p80 is not None
    assert "Point bas au 80e centile (p80) : " in html
    assert month_label(forecast.trough_p80.month) in html
    # the grant of the dossier, with its expected payments
    fr = world["case"].funding_requests.get()
    assert fr.scheme.funder.name in html
    assert amount(fr.amount_granted) + " €" in html
    assert 'aria-current="page">Ma trésorerie</a>' in html
    # the declaration form is there for the porteur
    assert 'name="formulaire" value="organisation"' in html
    assert f'id="dossier-{world["case"].pk}"' in html


def test_the_chart_marks_both_troughs_and_zero(world):
    forecast = treasury_forecast(world["org"])
    svg = str(forecast_chart(forecast))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Point bas p50" in svg and "Point bas p80" in svg
    assert "stroke-dasharray" in svg  # p80 and zero are not told apart by colour alone
    assert "<desc" in svg and "80e centile" in svg


def test_staff_reads_it_and_others_get_404(client, world):
    org = world["org"]
    url = f"/organisations/{org.pk}/tresorerie/"
    response = client_for(client, world["agent"]).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Trésorerie de {org.name}" in html
    assert 'name="formulaire"' not in html  # read-only
    assert client.get(url + "pret-relais.pdf").status_code == 200
    client.logout()
    for stranger in (f.porteur(), world["etat"]):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
        assert client.get(url + "pret-relais.pdf").status_code == 404
        client.logout()
    # the porteur reaching its own organisation's address gets its own page
    client.force_login(world["porteur"])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == PAGE
    client.logout()
    # staff cannot write through the porteur's page
    client.force_login(world["agent"])
    response = client.post(PAGE, {"formulaire": "organisation", "org-cash_at_hand": "1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert fresh(org).cash_at_hand == Decimal("5000.00")


def test_declaration_saves_and_refuses_in_french(client, world):
    c = client_for(client, world["porteur"])
    data = {
        "formulaire": "organisation",
        "org-cash_at_hand": "12 500,50",
        "org-cash_limit": "2 000",
        "org-money_needed_by": "2027-03-31",
        "org-fctva_regime": "1",
    }
    response = c.post(PAGE, data)
    assert response.status_code == 302
    org = fresh(world["org"])
    assert org.cash_at_hand == Decimal("12500.50")
    assert org.cash_at_hand_on == timezone.localdate()
    assert org.cash_limit == Decimal("2000.00")
    assert org.money_needed_by == dt.date(2027, 3, 31)
    assert org.fctva_regime == 1
    page = c.get(PAGE).content.decode()
    assert f"{amount(Decimal('12500.50'))} €" in page

    bad = dict(data, **{"org-cash_at_hand": "douze mille", "org-fctva_regime": "7"})
    response = c.post(PAGE, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Montant de la trésorerie disponible en euros" in html
    assert "Régime FCTVA : choisissez" in html
    assert 'value="douze mille"' in html  # what was typed is kept
    assert fresh(world["org"]).cash_at_hand == Decimal("12500.50")


def test_works_plan_and_invoices_change_the_outflows(client, world):
    c = client_for(client, world["porteur"])
    case = world["case"]
    before = treasury_forecast(world["org"])
    today = timezone.localdate()
    due = (today.replace(day=1) + dt.timedelta(days=95)).replace(day=15)
    response = c.post(
        PAGE,
        {
            "formulaire": "facture",
            "dossier": case.pk,
            f"facture-{case.pk}-due_on": due.isoformat(),
            f"facture-{case.pk}-amount": "30 000,00",
            f"facture-{case.pk}-label": "Gros œuvre",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = PlannedInvoice.objects.get(case=case)
    assert invoice.amount == Decimal("30000.00") and invoice.label == "Gros œuvre"
    after = treasury_forecast(world["org"])
    assert after.outflows != before.outflows
    month = next(m for m in after.months if m.month == due.replace(day=1))
    assert month.outflows == Decimal("30000.00")
    assert sum(m.outflows for m in after.months) == Decimal("30000.00")
    page = c.get(PAGE).content.decode()
    assert "Gros œuvre" in page and amount(Decimal("30000.00")) in page

    # a bad invoice: French message, typed values kept, nothing saved
    response = c.post(
        PAGE,
        {
            "formulaire": "facture",
            "dossier": case.pk,
            f"facture-{case.pk}-due_on": "",
            f"facture-{case.pk}-amount": "1.000,00",
            f"facture-{case.pk}-label": "Charpente",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Indiquez la date de paiement prévue." in html
    assert 'value="1.000,00"' in html and 'value="Charpente"' in html
    assert PlannedInvoice.objects.filter(case=case).count() == 1

    # works period: the end before the start is refused
    response = c.post(
        PAGE,
        {
            "formulaire": "travaux",
            "dossier": case.pk,
            f"travaux-{case.pk}-planned_works_start": "2027-06-01",
            f"travaux-{case.pk}-planned_works_end": "2027-01-01",
        },
    )
    assert response.status_code == 400
    assert "ne peut pas précéder leur début" in response.content.decode()
    response = c.post(
        PAGE,
        {
            "formulaire": "travaux",
            "dossier": case.pk,
            f"travaux-{case.pk}-planned_works_start": "01/01/2027",
            f"travaux-{case.pk}-planned_works_end": "2027-06-30",
        },
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.planned_works_start, case.planned_works_end) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 6, 30),
    )

    # remove the invoice: the expenses are spread again
    response = c.post(PAGE, {"formulaire": "retirer", "facture": invoice.pk})
    assert response.status_code == 302
    assert not PlannedInvoice.objects.filter(case=case).exists()
    spread = treasury_forecast(world["org"])
    assert sum(m.outflows for m in spread.months) > 0
    assert next(m for m in spread.months if m.month == due.replace(day=1)).outflows != Decimal(
        "30000.00"
    )


def test_other_porteur_cannot_touch_the_dossier(client, world):
    other = f.porteur()
    c = client_for(client, other)
    response = c.post(
        PAGE,
        {
            "formulaire": "facture",
            "dossier": world["case"].pk,
            f"facture-{world['case'].pk}-due_on": "2027-01-15",
            f"facture-{world['case'].pk}-amount": "100",
        },
    )
    assert response.status_code == 404
    with pytest.raises(DomainError) as err:
        services.planned_invoice_add(
            actor=other, case=world["case"], data={"due_on": "2027-01-15", "amount": "100"}
        )
    assert err.value.code == "forbidden"
    with pytest.raises(DomainError):
        services.organisation_treasury_update(
            actor=world["agent"], organisation=world["org"], data={"fctva_regime": "1"}
        )


def test_at_most_100_planned_invoices(world):
    case = world["case"]
    PlannedInvoice.objects.bulk_create(
        PlannedInvoice(case=case, due_on=dt.date(2027, 1, 1), amount=Decimal("10.00"))
        for _ in range(MAX_PLANNED_INVOICES)
    )
    with pytest.raises(DomainError) as err:
        services.planned_invoice_add(
            actor=world["porteur"], case=case, data={"due_on": "2027-01-15", "amount": "100"}
        )
    assert "au plus 100 factures" in err.value.message


def test_rate_form(client, world):
    c = client_for(client, world["porteur"])
    Organisation.objects.filter(pk=world["org"].pk).update(cash_at_hand=Decimal("0.00"))
    forecast = treasury_forecast(fresh(world["org"]), rate=Decimal("3.50"))
    assert forecast.loan is not None
    response = c.get(PAGE, {"taux": "3,5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3,5 % par an" in html
    assert f"{amount(forecast.loan.interest)} €" in html
    assert f"{amount(forecast.loan.amount)} €" in html
    assert 'value="3,5"' in html
    assert "taux=3.50" in html  # the PDF link keeps the rate
    for bad in ("trois", "150", "1e5", "3,555", "1e999999999", "NaN", "9" * 5000):
        response = c.get(PAGE, {"taux": bad})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'aria-invalid="true"' in html, bad
        assert "taux du prêt relais" in html, bad
    response = c.get(PDF, {"taux": "abc"})
    assert response.status_code == 400
    assert "taux du prêt relais" in response.content.decode()


def test_the_pdf_holds_the_grant_lines(client, world):
    from pypdf import PdfReader

    response = client_for(client, world["porteur"]).get(PDF, {"taux": "3,5"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    fr = world["case"].funding_requests.select_related("scheme__funder").get()
    assert "Prévision de trésorerie" in text
    assert fr.scheme.funder.name in text
    assert fr.granted_on.strftime("%d/%m/%Y") in text
    assert world["org"].territory.name in text
    assert "Pour le PETR" in text


def test_page_of_a_porteur_without_dossier(client):
    porteur = f.porteur()
    response = client_for(client, porteur).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "La trésorerie disponible n'est pas déclarée" in html
    assert "Aucun prêt relais n'est nécessaire" in html
    assert "Aucun dossier décidé ou en travaux" in html
