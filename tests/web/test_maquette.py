"""« Maquette financière » (issue 14, point 2): one row per operation and a column group per
funder whose figures and totals are the live requests' of the year, against the year's
envelopes; filters by year, funder and EPCI; the territory's staff only (an EPCI partner:
its EPCI); XLSX and ODS exports with the same figures, texts as texts; a bounded number of
queries whatever the number of dossiers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from odf.opendocument import load
from odf.table import TableCell, TableRow
from openpyxl import load_workbook

from cases import builders
from cases.envelopes import envelope_figures
from cases.models import Case, FundingRequest, User
from cases.request_copy import cases_copy_refresh
from schemes.models import Commune, Envelope, Scheme
from tests import factories as f

pytestmark = pytest.mark.django_db

D = Decimal


def operation(porteur, title, requests, case_state=None):
    """A dossier with the given requests: (scheme, state, requested, granted, year)."""
    case = builders.case_build(porteur=porteur, title=title, state="draft")
    FundingRequest.objects.filter(case=case).delete()
    for code, state, requested, granted, year in requests:
        FundingRequest.objects.create(
            case=case,
            scheme=Scheme.objects.get(code=code),
            state=state,
            amount_requested=D(requested),
            amount_granted=None if granted is None else D(granted),
            granted_on=dt.date(year, 5, 1) if granted is not None else None,
            implicit_decision_on=dt.date(year, 9, 1),
        )
    if case_state:  # a raw UPDATE, outside the engine: the requests' copy read again
        Case.objects.filter(pk=case.pk).update(state=case_state)
        cases_copy_refresh([case.pk])
    return case


@pytest.fixture
def world():
    first = f.porteur()
    epci_a = first.organisation.epci
    other_commune = Commune.objects.exclude(epci=epci_a).order_by("insee").first()
    second = f.porteur(f.OrganisationFactory(name="Commune de Bèsse", commune=other_commune))
    ecole = operation(
        first,
        "École de Lescure",
        [
            ("DETR", "granted", "40000", "35000", 2026),
            ("DSIL", "instructing", "10000", None, 2026),
            ("LEADER", "selected", "20000", None, 2026),
            ("REGION_OCC", "refused", "9000", None, 2026),  # not in the programme
        ],
    )
    salle = operation(
        second,
        "=SOMME(A1:A9) Salle des fêtes",
        [
            ("DETR", "requested", "50000", None, 2026),
            ("REGION_OCC", "committed", "15000", "12000", 2026),
        ],
    )
    later = operation(first, "Voirie 2027", [("DETR", "requested", "70000", None, 2027)])
    dead = operation(
        first, "Projet abandonné", [("DETR", "requested", "99000", None, 2026)], "withdrawn"
    )
    territory = ecole.territory_id
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DETR"),
        territory_id=territory,
        year=2026,
        amount=D("500000"),
    )
    Envelope.objects.create(
        scheme=Scheme.objects.get(code="DSIL"),
        territory_id=territory,
        year=2026,
        amount=D("100000"),
    )
    return {
        "first": first,
        "second": second,
        "agent": f.agent(),
        "ecole": ecole,
        "salle": salle,
        "later": later,
        "dead": dead,
        "epci_a": epci_a,
        "epci_b": other_commune.epci,
    }


def page(client, user, query="annee=2026"):
    client.force_login(user)
    response = client.get(f"/programmation/?{query}")
    assert response.status_code == 200
    return response


def by_title(response) -> dict:
    return {
        op.title: dict((fc.code, cell) for fc, cell in cells)
        for op, cells in response.context["rows"]
    }


def test_rows_and_totals_are_the_live_requests_of_the_year(client, world):
    response = page(client, world["agent"])
    rows = by_title(response)
    assert set(rows) == {"École de Lescure", "=SOMME(A1:A9) Salle des fêtes"}
    ecole = rows["École de Lescure"]
    assert ecole["ETAT"].requested == D("50000") and ecole["ETAT"].granted == D("35000")
    assert ecole["ETAT"].state == "DETR : Accordée ; DSIL : En instruction"
    assert ecole["UE"].requested == D("20000") and ecole["UE"].granted is None
    assert ecole["REGION_OCC"] is None  # its request was refused
    salle = rows["=SOMME(A1:A9) Salle des fêtes"]
    assert salle["REGION_OCC"].granted == D("12000") and salle["UE"] is None
    # totals per funder = the sums of the live requests of 2026 of live dossiers
    live = (
        FundingRequest.objects.exclude(state__in=["refused", "withdrawn", "lapsed", "rejected"])
        .exclude(case__state="withdrawn")
        .filter(implicit_decision_on__year=2026)
    )
    columns = {c.code: c for c in response.context["funders"]}
    for code, column in columns.items():
        mine = [fr for fr in live if fr.scheme.funder.code == code]
        assert column.requested == sum((fr.amount_requested for fr in mine), D(0))
        assert column.granted == sum(
            (fr.amount_granted for fr in mine if fr.state in ("granted", "committed")), D(0)
        )
        assert column.count == len(mine)
    assert list(columns) == ["ETAT", "REGION_OCC", "UE"]  # « État », « Région », « Union »
    # the envelopes' side: the two État envelopes of 2026, through cases.envelopes
    figures = envelope_figures(Envelope.objects.filter(year=2026))
    assert columns["ETAT"].envelope == D("600000")
    assert columns["ETAT"].programmed == sum((x.programmed for x in figures), D(0)) == D("35000")
    assert columns["ETAT"].remaining == D("565000")
    assert columns["UE"].envelope is None
    html = response.content.decode()
    assert (
        "<caption" in html
        and 'scope="colgroup"' in html
        and 'class="table-scroll" tabindex="0"' in html
    )
    assert "565\u202f000,00 €" in html.replace("\xa0", "\u202f")
    assert "Pas d'enveloppe" in html  # the UE has none for 2026
    assert "Projet abandonné" not in html and "Voirie 2027" not in html
    assert 'href="/programmation/"' in html and ">Programmation<" in html


def test_filters_year_funder_epci(client, world):
    agent = world["agent"]
    assert set(by_title(page(client, agent, "annee="))) == {
        "École de Lescure",
        "=SOMME(A1:A9) Salle des fêtes",
        "Voirie 2027",
    }
    assert set(by_title(page(client, agent, "annee=2027"))) == {"Voirie 2027"}
    # without a year given: the current year
    response = page(client, agent, "")
    assert response.context["filters"].year == dt.date.today().year
    response = page(client, agent, "annee=2026&financeur=REGION_OCC")
    assert [c.code for c in response.context["funders"]] == ["REGION_OCC"]
    assert set(by_title(response)) == {"=SOMME(A1:A9) Salle des fêtes"}
    response = page(client, agent, f"annee=2026&epci={world['epci_a'].pk}")
    assert set(by_title(response)) == {"École de Lescure"}
    etat = {c.code: c for c in response.context["funders"]}["ETAT"]
    assert etat.requested == D("50000")
    response = page(client, agent, "annee=2026&financeur=NOPE")
    assert "Financeur : la valeur" in response.content.decode()
    assert len(by_title(response)) == 2  # a bad filter is reported and ignored


def test_who_reads_the_maquette(client, world):
    for user in (world["first"], f.funder_instructor("ETAT"), f.committee_member()):
        client.force_login(user)
        for url in (
            "/programmation/",
            "/programmation/maquette.xlsx",
            "/programmation/maquette.ods",
        ):
            assert client.get(url).status_code == 404, (user.role, url)
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=world["epci_b"])
    response = page(client, partner, f"annee=2026&epci={world['epci_a'].pk}")
    assert set(by_title(response)) == {"=SOMME(A1:A9) Salle des fêtes"}
    assert "École de Lescure" not in response.content.decode()
    assert [pk for pk, _n in response.context["form"].epcis] == [world["epci_b"].pk]
    director = f.UserFactory(role=User.Role.DIRECTOR)
    assert len(by_title(page(client, director))) == 2


def xlsx_rows(client, query="annee=2026"):
    response = client.get(f"/programmation/maquette.xlsx?{query}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="maquette-2026')
    ws = load_workbook(io.BytesIO(response.content)).active
    return ws


def test_the_xlsx_has_the_same_figures_and_texts_stay_texts(client, world):
    client.force_login(world["agent"])
    ws = xlsx_rows(client)
    assert ws["A1"].value.startswith("Maquette financière — année 2026")
    groups = [c.value for c in ws[2] if c.value]
    headers = [c.value for c in ws[3]]
    assert set(groups) == {
        "Union européenne (FEADER, via le GAL LEADER)",
        "Région Occitanie",
        "État (préfecture du Tarn)",
    }
    assert [c.value for c in ws[2]][5::3] == groups  # one group of three columns per funder
    assert headers[:5] == ["Référence", "Opération", "Porteur", "EPCI", "Année"]
    etat = 5 + groups.index("État (préfecture du Tarn)") * 3
    rows = {r[1].value: r for r in ws.iter_rows(min_row=4)}
    salle = rows["=SOMME(A1:A9) Salle des fêtes"]
    assert salle[1].data_type == "s"  # a text, never a formula
    assert rows["École de Lescure"][etat + 1].value == 50000
    assert rows["École de Lescure"][etat + 2].value == 35000
    assert rows["Total des opérations"][etat + 1].value == 100000
    assert rows["Enveloppes"][etat + 1].value == 600000
    assert rows["Reste à programmer"][etat + 1].value == 565000
    assert ws.merged_cells.ranges  # a column group per funder


def ods_table(content: bytes) -> list[list[TableCell]]:
    doc = load(io.BytesIO(content))
    return [row.getElementsByType(TableCell) for row in doc.spreadsheet.getElementsByType(TableRow)]


def test_the_ods_has_the_same_figures_and_texts_stay_texts(client, world):
    client.force_login(world["agent"])
    response = client.get("/programmation/maquette.ods?annee=2026")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    rows = ods_table(response.content)
    assert str(rows[0][0]).startswith("Maquette financière — année 2026")
    headers = [str(c) for c in rows[2]]
    assert headers[:5] == ["Référence", "Opération", "Porteur", "EPCI", "Année"]
    groups = [str(c) for c in rows[1][5:]]
    assert (
        rows[1][5 + groups.index("État (préfecture du Tarn)")].getAttribute("numbercolumnsspanned")
        == "3"
    )
    etat = 5 + 3 * groups.index("État (préfecture du Tarn)")
    by_title = {str(r[1]): r for r in rows[3:]}
    salle = by_title["=SOMME(A1:A9) Salle des fêtes"][1]
    assert salle.getAttribute("valuetype") == "string" and salle.getAttribute("formula") is None
    cell = by_title["École de Lescure"][etat + 1]
    assert cell.getAttribute("valuetype") == "float" and D(cell.getAttribute("value")) == 50000
    assert D(by_title["Total des opérations"][etat + 1].getAttribute("value")) == 100000
    assert D(by_title["Reste à programmer"][etat + 1].getAttribute("value")) == 565000
    # the EPCI filter applies to the file too
    response = client.get(f"/programmation/maquette.ods?annee=2026&epci={world['epci_b'].pk}")
    titles = {str(r[1]) for r in ods_table(response.content)[3:]}
    assert "École de Lescure" not in titles and "=SOMME(A1:A9) Salle des fêtes" in titles


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_a_bounded_number_of_queries(client, world):
    client.force_login(world["agent"])
    urls = [
        "/programmation/?annee=",
        "/programmation/maquette.xlsx?annee=",
        "/programmation/maquette.ods?annee=",
    ]
    for u in urls:
        client.get(u)  # the session's first reads
    before = [count_queries(client, u) for u in urls]
    for i in range(8):
        operation(
            world["second"] if i % 2 else world["first"],
            f"Opération {i}",
            [
                ("DETR", "requested", "1000", None, 2026),
                ("REGION_OCC", "granted", "500", "400", 2026),
            ],
        )
    assert Case.objects.count() >= 10
    assert [count_queries(client, u) for u in urls] == before


def test_pages_of_operations_keep_the_totals(client, world, monkeypatch):
    from web import maquette as view

    monkeypatch.setattr(view, "PER_PAGE", 1)
    first = page(client, world["agent"], "annee=2026")
    second = page(client, world["agent"], "annee=2026&page=2")
    titles = [*by_title(first), *by_title(second)]
    assert sorted(titles) == sorted(["École de Lescure", "=SOMME(A1:A9) Salle des fêtes"])
    assert "Page suivante" in first.content.decode()
    assert [(c.code, c.requested) for c in first.context["funders"]] == [
        (c.code, c.requested) for c in second.context["funders"]
    ]


def test_a_page_past_the_end_or_malformed_is_the_last_or_the_first(client, world, monkeypatch):
    """The count and the page's dossiers are read together; a page past the end (no row
    carries the count) is served as the last, as Django's paginator does."""
    from web import maquette as view

    monkeypatch.setattr(view, "PER_PAGE", 1)
    first = page(client, world["agent"], "annee=2026")
    last = page(client, world["agent"], "annee=2026&page=2")
    assert first.context["count"] == last.context["count"] == 2
    for query, expected in (
        ("page=999", last),
        ("page=99999999999999999999999", last),
        ("page=0", last),
        ("page=-1", last),
        ("page=abc", first),
        ("page=²", first),
    ):
        response = page(client, world["agent"], f"annee=2026&{query}")
        assert response.context["count"] == 2
        assert response.context["page"].number == expected.context["page"].number, query
        assert list(by_title(response)) == list(by_title(expected)), query
    every_year = page(client, world["agent"], "annee=&page=999")  # counted apart
    assert every_year.context["count"] == 3 and every_year.context["page"].number == 3
    empty = page(client, world["agent"], f"annee=2027&epci={world['epci_b'].pk}&page=3")
    assert empty.context["count"] == 0 and empty.context["rows"] == []
