"""``engine.prepared``: a read compiled once gives the objects its queryset gives (the
``select_related`` ones, converted values), with other values each time; ``insert_one``
writes the row ``bulk_create`` writes."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Case, FundingRequest
from engine import prepared
from engine.models import OutboxEvent
from engine.prepared import insert_one, prepared_rows
from tests.engine import walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = walk.FAST_HASHERS


def _requests(case_id):
    return FundingRequest.objects.filter(case_id=case_id).select_related("scheme")


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_rows_of_the_queryset_with_other_values_each_time():
    cases = [walk.acknowledged_case()[0] for _ in range(2)]
    key = ("test.requests",)
    prepared._shapes.pop((key, "default", connection.vendor), None)
    for case in cases:
        got = prepared_rows(key, _requests, [case.pk], "default")
        want = list(_requests(case.pk))
        assert [_fields(fr) for fr in got] == [_fields(fr) for fr in want]
        assert [_fields(fr.scheme) for fr in got] == [_fields(fr.scheme) for fr in want]
        with CaptureQueriesContext(connection) as ctx:
            got[0].scheme  # noqa: B018 (read with the row)
        assert ctx.captured_queries == []
    assert len([k for k in prepared._shapes if k[0] == key]) == 1


def test_a_locking_read_with_a_joined_foreign_key():
    case, _ = walk.draft_case()

    def locking(*ids):
        return (
            Case.objects.filter(pk__in=ids)
            .select_related("referent_agent")
            .select_for_update(of=("self",))
        )

    with transaction.atomic():
        (got,) = prepared_rows(("test.lock",), locking, [case.pk], "default")
    assert _fields(got) == _fields(Case.objects.get(pk=case.pk))
    assert got.referent_agent_id == case.referent_agent_id


def test_a_value_must_be_a_parameter_of_the_query():
    with pytest.raises(ValueError):
        prepared_rows(("test.unused",), lambda pk: Case.objects.all(), [1], "default")


def test_insert_one_writes_what_bulk_create_writes():
    case, _ = walk.draft_case()
    ct = ContentType.objects.get_for_model(Case)
    one = OutboxEvent(topic="t.one", subject_type=ct, subject_id=case.pk, payload={"a": [1]})
    insert_one(one, "default")
    assert one.pk is not None and not one._state.adding
    row = OutboxEvent.objects.get(pk=one.pk)
    assert (row.topic, row.payload, row.subject_id) == ("t.one", {"a": [1]}, case.pk)
    assert row.created_at == one.created_at
