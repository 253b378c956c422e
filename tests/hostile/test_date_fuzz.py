"""Hypothesis fuzzing of the transition ``date`` fields through the API: year 1, 9999,
0000-00-00, 2026-02-30, far future, empty, lists, numbers, datetimes, Unicode digits…
Each value gets a French 400 — or a 200 when it is a real YYYY-MM-DD date within the
allowed window — and a refused request leaves the dossier, its lines, requests,
deadlines, history and outbox exactly as they were."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import CaseState

from .snapshots import dossier

pytestmark = pytest.mark.django_db

SPECIAL_DATES = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "0000-00-00",
        "2026-02-30",
        "2025-02-29",
        "2024-02-29",
        "2026-13-01",
        "2026-1-1",
        "20260101",
        "2026-W01-1",
        "2026-001",
        "２０２６-０１-０１",
        "٢٠٢٥-٠١-٠١",
        "2026-01-01T10:00:00",
        "2026-01-01T10:00:00+01:00",
        " 2026-01-01",
        "2026-01-01\x00",
        "+2026-01-01",
        "-2026-01-01",
        "3000-01-01",
        "",
        "   ",
        None,
        [],
        ["2026-01-01"],
        {"date": "2026-01-01"},
        20260101,
        2026,
        0,
        -1,
        1.5,
        True,
        False,
        10**30,
    ]
)
dates = st.one_of(
    SPECIAL_DATES,
    SPECIAL_DATES,
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.dates(
        min_value=timezone.localdate() - dt.timedelta(days=400),
        max_value=timezone.localdate() + dt.timedelta(days=30),
    ).map(dt.date.isoformat),
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
)
ISO = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class Rollback(Exception):
    """Undo an accepted transition so that the next example starts from the same state."""


def legit(value, earliest: dt.date, optional: bool = False) -> dt.date | None:
    """The date a valid value stands for (real YYYY-MM-DD, not before ``earliest`` nor
    after today; an optional date left empty means today), else None. Independent of the
    guards' own parsing."""
    if optional and value in (None, ""):
        return timezone.localdate()
    if not isinstance(value, str) or not ISO.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if earliest <= day <= timezone.localdate() else None


def fuzz_transition(client, url: str, case_id: int, body, earliest, check_ok, optional=False):
    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(value=dates)
    def run(value):
        before = dossier(case_id)
        try:
            with transaction.atomic():
                response = client.post(url, {**body, "date": value}, format="json")
                expected = legit(value, earliest, optional)
                if expected is None:
                    assert response.status_code == 400, (value, response.status_code, response.data)
                    detail = response.data["detail"]
                    assert detail and "Traceback" not in detail
                    # Named on the date field, or the JSON itself refused (NUL character…).
                    assert "date" in response.data.get("errors", {}) or "illisible" in detail, (
                        response.data
                    )
                    assert dossier(case_id) == before, f"{value!r} left something written"
                else:
                    assert response.status_code == 200, (value, response.data)
                    check_ok(expected)
                raise Rollback
        except Rollback:
            pass
        assert dossier(case_id) == before

    run()


def test_start_works_dates(world, api):
    """A decided dossier: the works start between the receipt date and today."""
    from tests.notifications.builders import detr_case, grant_detr

    users = world["users"]
    today = timezone.localdate()
    case = detr_case(
        porteur=users["porteur"], agent=users["agent"], receipt=today - dt.timedelta(days=200)
    )
    grant_detr(
        case,
        agent=users["agent"],
        instructor=users["funder_instructor"],
        complete_on=today - dt.timedelta(days=190),
        granted_on=today - dt.timedelta(days=180),
    )
    case.refresh_from_db()
    assert case.state == CaseState.DECIDED

    def ok(day):
        case.refresh_from_db()
        assert case.state == CaseState.IN_PROGRESS and case.works_start_date == day

    fuzz_transition(
        api(users["porteur"]),
        f"/api/v1/cases/{case.pk}/transitions/start_works/",
        case.pk,
        {},
        case.receipt_date,
        ok,
    )


def test_declare_complete_dates(world, api):
    users = world["users"]
    case = world["submitted"]

    def ok(day):
        case.refresh_from_db()
        assert case.state == CaseState.INSTRUCTION and case.complete_on == day

    fuzz_transition(
        api(users["agent"]),
        f"/api/v1/cases/{case.pk}/transitions/declare_complete/",
        case.pk,
        {},
        case.receipt_date,
        ok,
        optional=True,  # no date: today
    )


def test_commit_dates_on_a_funding_request(world, api):
    """``commit`` on a granted request: not before the grant, not in the future."""
    from tests.notifications.builders import detr_case, grant_detr

    users = world["users"]
    today = timezone.localdate()
    case = detr_case(
        porteur=users["porteur"], agent=users["agent"], receipt=today - dt.timedelta(days=100)
    )
    fr = grant_detr(
        case,
        agent=users["agent"],
        instructor=users["funder_instructor"],
        complete_on=today - dt.timedelta(days=90),
        granted_on=today - dt.timedelta(days=80),
    )

    def ok(day):
        fr.refresh_from_db()
        assert fr.state == "committed" and fr.committed_on == day

    fuzz_transition(
        api(users["funder_instructor"]),
        f"/api/v1/funding-requests/{fr.pk}/transitions/commit/",
        case.pk,
        {},
        fr.granted_on,
        ok,
    )
