"""Hostile amounts on the transitions that take one (``grant``'s ``amount_granted``,
``pay``'s ``amount``): Unicode digits, « 1_000 », booleans, exponents, NaN, lists… Each
gets a French 400 on the field and leaves the dossier exactly as it was; a plain amount
with two decimals at most is accepted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.transitions import transition_apply
from tests.notifications.builders import at, detr_case

from .snapshots import dossier

pytestmark = pytest.mark.django_db

HOSTILE = [
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "1_000",
    "12 500",
    "12,50",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "1e999999999999999999999",
    "0",
    "-5",
    "0.001",
    "12.345",
    "",
    "  ",
    None,
    True,
    False,
    [],
    ["100"],
    {"amount": "100"},
    "100\x00",
    "٣.٥",
    10**30,
]


class Rollback(Exception):
    pass


def legit(value) -> Decimal | None:
    """The amount a value stands for, independently of the guard: a JSON number or ASCII
    decimal text, positive, two decimals at most, within the requested amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value).strip()
    if not text or not all(c in "0123456789.+-eE" for c in text) or not text.isascii():
        return None
    try:
        amount = Decimal(text)
    except ArithmeticError:
        return None
    if not amount.is_finite() or amount <= 0 or amount > Decimal("40000"):
        return None
    return amount if amount == amount.quantize(Decimal("0.01")) else None


@pytest.fixture
def instructed(world):
    users = world["users"]
    today = timezone.localdate()
    case = detr_case(
        porteur=users["porteur"], agent=users["agent"], receipt=today - dt.timedelta(days=30)
    )
    with at(today - dt.timedelta(days=20)):
        transition_apply(instance=case, name="declare_complete", actor=users["agent"])
        fr = case.funding_requests.get()
        transition_apply(instance=fr, name="start_instruction", actor=users["funder_instructor"])
    return case, fr


def post_grant(api, world, fr, value):
    return api(world["users"]["funder_instructor"]).post(
        f"/api/v1/funding-requests/{fr.pk}/transitions/grant/",
        {"amount_granted": value},
        format="json",
    )


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_granted_amounts_are_refused(world, api, instructed, value):
    case, fr = instructed
    before = dossier(case.pk)
    response = post_grant(api, world, fr, value)
    assert response.status_code == 400, (value, response.data)
    detail = response.data["detail"]
    assert detail and "Traceback" not in detail
    assert "amount_granted" in response.data.get("errors", {}) or "illisible" in detail
    assert dossier(case.pk) == before


def test_granted_amounts_fuzzed(world, api, instructed):
    case, fr = instructed

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(
        value=st.one_of(
            st.sampled_from(HOSTILE),
            st.decimals(min_value=-100, max_value=50000, places=3).map(str),
            st.integers(min_value=-10, max_value=10**6),
            st.text(alphabet="0123456789٠١٢３.,_ e-", max_size=8),
        )
    )
    def run(value):
        before = dossier(case.pk)
        try:
            with transaction.atomic():
                response = post_grant(api, world, fr, value)
                expected = legit(value)
                if expected is None:
                    assert response.status_code == 400, (value, response.data)
                    assert dossier(case.pk) == before, f"{value!r} left something written"
                else:
                    assert response.status_code == 200, (value, response.data)
                    fr.refresh_from_db()
                    assert fr.amount_granted == expected
                raise Rollback
        except Rollback:
            pass
        assert dossier(case.pk) == before

    run()
