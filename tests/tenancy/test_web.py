"""The web pages with two territories: lists, detail pages, transitions, committee,
observatory and its exports, and the public page of each territory."""

import io

import pytest
from django.utils.html import escape
from openpyxl import load_workbook

from cases import stats
from cases.models import Case, Extension, RecoveryOrder

from .conftest import STAFF

pytestmark = pytest.mark.django_db


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _text(response) -> str:
    return (
        b"".join(response).decode("utf-8", "replace")
        if response.streaming
        else (response.content.decode("utf-8", "replace"))
    )


def test_agent_workspace_lists_only_its_territory(client, world):
    a, b = world.a, world.b
    for side, other in ((a, b), (b, a)):
        for role in ("agent", "director", "admin", "epci_partner"):
            response = _get(client, side.users[role], "/agent/")
            assert response.status_code == 200, role
            page = _text(response)
            assert side.marker in page, role
            assert other.marker not in page, role


def test_every_dossier_page_of_another_territory_is_404(client, world):
    a, b = world.a, world.b
    pages = ["/dossiers/{pk}/"]
    posts = [
        ("/dossiers/{pk}/transitions/withdraw/", {"reason": "pas chez nous"}),
        ("/dossiers/{pk}/avis/", {"kind": "epci", "value": "favourable", "text": "x"}),
        ("/dossiers/{pk}/notes/", {"body": "note"}),
        ("/dossiers/{pk}/messages/", {"body": "message"}),
        ("/dossiers/{pk}/derogation/", {"reason": "x"}),
    ]
    for role in STAFF:
        user = b.users[role]
        client.force_login(user)
        for pk in a.case_ids:
            for url in pages:
                assert client.get(url.format(pk=pk)).status_code == 404, (url, role)
            for url, data in posts:
                assert client.post(url.format(pk=pk), data).status_code == 404, (url, role)
    # revised rules 5 and 6: extensions and recovery orders, by their own ids too
    by_id = [
        ("/prorogations/{extension}/transitions/grant/", {"motivation": "x"}),
        ("/prorogations/{extension}/transitions/refuse/", {"motivation": "x"}),
        ("/demandes/{fr}/reversements/", {"amount": "1,00", "reason": "x"}),
        ("/dossiers/{case}/prorogations/", {"target": "{fr}:works_start", "reason": "x"}),
    ]
    for role in STAFF:
        client.force_login(b.users[role])
        for url, data in by_id:
            data = {k: v.format(**a.ids) for k, v in data.items()}
            assert client.post(url.format(**a.ids), data).status_code == 404, (url, role)
    client.force_login(b.users["porteur"])
    response = client.post(
        f"/mes-dossiers/{a.ids['case']}/prorogation/",
        {"target": f"{a.ids['fr']}:works_start", "until": "2028-01-01", "reason": "x"},
    )
    assert response.status_code == 404
    assert Extension.objects.get(pk=a.ids["extension"]).state == "requested"
    assert Extension.objects.filter(funding_request_id=a.ids["fr"]).count() == 1
    assert not RecoveryOrder.objects.exists()
    assert Case.objects.get(pk=a.ids["draft"]).state == "draft"
    assert not Case.objects.get(pk=a.ids["case"]).messages.exists()
    # its own dossier opens
    client.force_login(b.users["agent"])
    assert client.get(f"/dossiers/{b.ids['case']}/").status_code == 200


def test_committee_pages_are_per_territory(client, world):
    a, b = world.a, world.b
    for role in ("agent", "director", "committee_member", "admin"):
        client.force_login(b.users[role])
        listing = client.get("/comite/")
        assert listing.status_code == 200
        assert f"/comite/seances/{b.ids['session']}/" in _text(listing), role
        assert f"/comite/seances/{a.ids['session']}/" not in _text(listing), role
        for url in ("/comite/seances/{pk}/", "/comite/seances/{pk}/proces-verbal.pdf"):
            assert client.get(url.format(pk=a.ids["session"])).status_code == 404, (url, role)
        vote = client.post(f"/comite/seances/{a.ids['session']}/votes/", {"vote": "for"})
        assert vote.status_code == 404, role
    # the planning form offers B's committee members only
    client.force_login(b.users["agent"])
    form = _text(client.get("/comite/seances/nouvelle/"))
    assert f'value="{b.users["committee_member"].pk}"' in form
    assert f'value="{a.users["committee_member"].pk}"' not in form


def test_observatory_and_exports_are_per_territory(client, world):
    a, b = world.a, world.b
    for role in ("agent", "director", "admin", "epci_partner"):
        user = b.users[role]
        page = _text(_get(client, user, "/observatoire/"))
        assert b.epci.name in page and a.epci.name not in page, role
        epci_csv = _text(_get(client, user, "/observatoire/export/epci.csv"))
        assert b.epci.name in epci_csv and a.epci.name not in epci_csv, role
        etalab = _get(client, user, "/observatoire/export/subventions-etalab.csv")
        assert etalab.status_code == 200
        assert a.org_name not in _text(etalab) and b.org_name in _text(etalab), role
        plans = _get(client, user, "/observatoire/export/maquette-financiere.xlsx")
        assert plans.status_code == 200
        cells = {
            str(c)
            for ws in load_workbook(io.BytesIO(plans.content)).worksheets
            for row in ws.iter_rows(values_only=True)
            for c in row
        }
        assert any(b.marker in c for c in cells) and not any(a.marker in c for c in cells)
    # the tables themselves (every one of them) count B's dossiers only
    filters = stats.Filters()
    summary_b = stats.summary(user=b.users["director"], filters=filters)
    summary_all = stats.summary(user=world.superuser, filters=filters)
    assert summary_b.rows != summary_all.rows


def test_public_page_of_each_territory_shows_its_own(client, world):
    a, b = world.a, world.b
    pages = [
        (a, ["/transparence/", f"/t/{a.territory.slug}/transparence/"]),
        (
            b,
            [
                f"/t/{b.territory.slug}/transparence/",
                f"/transparence/?territoire={b.territory.slug}",
            ],
        ),
    ]
    for side, urls in pages:
        other = b if side is a else a
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            page = _text(response)
            assert escape(side.territory.name) in page, url  # « l&#x27;Albigeois »
            assert side.marker in page, url  # its decided dossier is a supported project
            assert other.marker not in page, url
            # links to the other territory's page
            assert f"/t/{other.territory.slug}/transparence/" in page
    assert client.get("/t/inconnu/transparence/").status_code == 404
    assert client.get("/transparence/?territoire=inconnu").status_code == 404
