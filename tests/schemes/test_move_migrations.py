"""The reference models moved to ``schemes`` (schemes 0001, cases 0012, workflows 0003)
with their tables: a database at the migrations before the move keeps every row, every
foreign key and its content types (so permissions and the admin's history follow).

The database is taken back to the migrations before the move, filled through the
historical models (``cases.Territory``, ``workflows.Scheme``…), migrated to the end, then
read back through today's models."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.models import Case, FundingRequest, Organisation, ResourceLine, User
from schemes.models import EPCI, Commune, Funder, Scheme, Territory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE_THE_MOVE = [
    ("schemes", None),
    ("cases", "0011_money_within_bounds"),
    ("workflows", "0002_default_schemes"),
]
MOVED = {"territory": "cases", "epci": "cases", "commune": "cases", "funder": "workflows"}
MOVED["scheme"] = "workflows"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection).loader


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _fill(old):
    """Rows written through the models as they were before the move."""
    territory = old.get_model("cases", "Territory").objects.create(
        name="PETR de test", slug="petr-de-test", reference_prefix="TST"
    )
    epci = old.get_model("cases", "EPCI").objects.create(
        siren="200000001", name="CC de test", territory=territory
    )
    commune = old.get_model("cases", "Commune").objects.create(
        insee="99001", name="Testville", population=420, epci=epci
    )
    funder = old.get_model("workflows", "Funder").objects.create(code="TST", name="Financeur")
    scheme = old.get_model("workflows", "Scheme").objects.create(
        code="TST_SCHEME", name="Dispositif de test", funder=funder, rate_max=Decimal("0.5")
    )
    organisation = old.get_model("cases", "Organisation").objects.create(
        name="Commune de Testville",
        kind="commune",
        commune=commune,
        epci=epci,
        territory=territory,
    )
    user = old.get_model("cases", "User").objects.create(
        username="instr.test",
        role="funder_instructor",
        funder=funder,
        territory=territory,
        epci=epci,
    )
    case = old.get_model("cases", "Case").objects.create(
        title="Salle des fêtes", organisation=organisation, epci=epci, territory=territory
    )
    case.communes.add(commune)
    old.get_model("cases", "ResourceLine").objects.create(
        case=case, kind="scheme", scheme=scheme, amount=Decimal("1000.00")
    )
    old.get_model("cases", "FundingRequest").objects.create(
        case=case, scheme=scheme, amount_requested=Decimal("1000.00")
    )
    return {"territory": territory.pk, "scheme": scheme.pk, "case": case.pk, "user": user.pk}


def test_an_existing_database_keeps_its_rows_and_content_types_through_the_move():
    leaves = _leaves()
    types_before = {
        name: ContentType.objects.get(app_label="schemes", model=name).pk for name in MOVED
    }
    old = (
        _migrate(BEFORE_THE_MOVE)
        .project_state(
            [("cases", "0011_money_within_bounds"), ("workflows", "0002_default_schemes")]
        )
        .apps
    )
    # Going back put the content types under their old labels.
    for name, label in MOVED.items():
        assert ContentType.objects.get(app_label=label, model=name).pk == types_before[name]
    ids = _fill(old)
    admin = User.objects.create_superuser("admin.test", password="x")
    LogEntry.objects.create(
        user_id=admin.pk,
        content_type_id=types_before["scheme"],
        object_id=str(ids["scheme"]),
        object_repr="TST_SCHEME",
        action_flag=2,
    )
    # A stale row under the new label (post_migrate run by today's code before the move):
    # the migration keeps the row that permissions and the history point at.
    stale = ContentType.objects.create(app_label="schemes", model="epci")

    _migrate(leaves)

    for name, label in MOVED.items():
        assert not ContentType.objects.filter(app_label=label, model=name).exists()
        assert ContentType.objects.get(app_label="schemes", model=name).pk == types_before[name]
    assert not ContentType.objects.filter(pk=stale.pk).exists()
    scheme_type = ContentType.objects.get_for_model(Scheme)
    assert Permission.objects.filter(content_type=scheme_type, codename="change_scheme").exists()
    assert LogEntry.objects.get(object_repr="TST_SCHEME").content_type == scheme_type

    territory = Territory.objects.get(pk=ids["territory"])
    assert (territory.slug, territory.reference_prefix) == ("petr-de-test", "TST")
    epci = EPCI.objects.get(siren="200000001")
    assert epci.territory == territory
    commune = Commune.objects.get(insee="99001")
    assert (commune.epci, commune.population) == (epci, 420)
    scheme = Scheme.objects.get(pk=ids["scheme"])
    assert scheme.funder == Funder.objects.get(code="TST")
    assert scheme.rate_max == Decimal("0.5")
    case = Case.objects.get(pk=ids["case"])
    assert (case.territory, case.epci) == (territory, epci)
    assert list(case.communes.all()) == [commune]
    assert list(commune.cases.all()) == [case]
    assert Organisation.objects.get(commune=commune).territory == territory
    assert ResourceLine.objects.get(case=case).scheme == scheme
    assert FundingRequest.objects.get(case=case).scheme == scheme
    assert list(scheme.requests.all()) == list(case.funding_requests.all())
    user = User.objects.get(pk=ids["user"])
    assert (user.funder, user.territory, user.epci) == (scheme.funder, territory, epci)
    # The reference data loaded before the move is still there, under today's models.
    assert Commune.objects.count() == 101
    assert Scheme.objects.filter(code="DETR").exists()
