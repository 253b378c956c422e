"""Hypothesis fuzzing of the financing plan through the services (``case_create`` and
``case_update``): negative, huge, over-precise, non-numeric and wrongly typed amounts,
very long labels and Unicode tricks. Each input is either accepted and stored exactly as
given, or refused with a French ``DomainError``, and then nothing at all was written."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services
from cases.models import CaseState
from engine.errors import DomainError
from engine.transitions import transition_apply

from .conftest import plan
from .snapshots import dossier

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)

TRICKS = [
    "\u202e",  # right-to-left override
    "\u200d",  # zero-width joiner
    "\u200b",  # zero-width space
    "\u0301",  # combining acute accent
    "e\u0301\u0302\u0303",  # stacked combining marks
    "\x00",  # NUL
    "👩‍👩‍👧‍👦",  # emoji family (ZWJ sequence)
    "🇫🇷",
    "\ufeff",  # BOM
    "\U0010ffff",
    "\ud7ff",
    "Réfection de l'église",
]

SPECIAL_AMOUNTS = st.sampled_from(
    [
        "1e15",
        "1e999",
        "1e999999999999999999",
        "-1e999999999999999999",
        "1e-999999999999999999",
        "NaN",
        "sNaN",
        "-nan",
        "Infinity",
        "-Infinity",
        "inf",
        "0.001",
        "12.345678901234567890",
        "12,50",
        "1 000",
        "1_000",
        "١٢٣",
        "１２",
        "12\u200b",
        "-0",
        "",
        " ",
        "0x10",
        "999999999999.99",
        "1000000000000",
        1e15,
        1e308,
        float("inf"),
    ]
)
amounts = st.one_of(
    SPECIAL_AMOUNTS,
    SPECIAL_AMOUNTS,
    st.decimals(min_value=-(10**13), max_value=10**13, places=2).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
labels = st.one_of(
    st.text(max_size=40),
    st.text(min_size=190, max_size=260),
    st.lists(st.sampled_from(TRICKS), min_size=1, max_size=8).map("".join),
    st.tuples(st.text(max_size=20), st.sampled_from(TRICKS)).map(lambda t: t[0] + t[1]),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
)
expense = st.fixed_dictionaries(
    {"label": labels, "amount": amounts},
    optional={
        "tax": st.one_of(st.sampled_from(["HT", "TTC", "ht", "", None, 1]), st.text(max_size=4)),
        "eligible": st.one_of(st.booleans(), st.sampled_from([0, 1, "true", None])),
    },
)
resource = st.fixed_dictionaries(
    {
        "kind": st.one_of(
            st.sampled_from(["scheme", "self", "other_public", "other", "SCHEME", "", None])
        ),
        "amount": amounts,
    },
    optional={
        "scheme": st.one_of(
            st.sampled_from(["DETR", "DSIL", "LEADER", "detr", "NOPE", "", None, 7]),
            st.text(max_size=5),
        ),
        "label": labels,
    },
)
plans = st.one_of(
    st.fixed_dictionaries(
        {
            "expenses": st.lists(st.one_of(expense, st.integers(), st.none()), max_size=4),
            "resources": st.lists(st.one_of(resource, st.text(max_size=3)), max_size=4),
        }
    ),
    st.fixed_dictionaries({"expenses": st.lists(expense, min_size=1, max_size=3)}),
    st.sampled_from([[], "plan", 42, {"expenses": "x"}, {"resources": {"a": 1}}]),
    st.fixed_dictionaries(
        {
            "expenses": st.just([{"label": "Travaux", "amount": "1.00"}] * 101),
            "resources": st.just([]),
        }
    ),
)

MONEY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _as_money(value):
    """The stored value of a legitimately valid amount (ASCII number, finite, under 10^12,
    two decimals at most), or None if it is not one. Written independently of the service."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value).strip()
    if not MONEY.fullmatch(text):
        return None
    amount = Decimal(text)
    if amount.copy_abs() >= Decimal("1e12") or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def assert_french(exc: DomainError) -> None:
    assert exc.message and len(exc.message) < 2000
    assert "Traceback" not in exc.message and "Error" not in exc.message
    # French words or the plan's own vocabulary: never a bare Python message.
    assert re.search(
        r"(montant|libellé|Dépense|Ressource|plan|liste|objet|dispositif|lignes|caractère|"
        r"décimales|HT ou TTC|vrai ou faux|kind|Indiquez)",
        exc.message,
        re.I,
    ), exc.message
    assert exc.status == 400


def assert_stored_as_given(case_id: int, data) -> None:
    """An accepted plan is stored line for line, amounts exact, labels trimmed."""
    stored = dossier(case_id)
    assert len(stored["expenses"]) == len(data.get("expenses") or [])
    for (_, label, amount, tax, eligible), row in zip(
        stored["expenses"], data.get("expenses") or [], strict=True
    ):
        assert _as_money(row["amount"]) == amount, (row["amount"], amount)
        assert isinstance(row["label"], str) and label == row["label"].strip()
        assert label and "\x00" not in label and len(label) <= 200
        assert tax == row.get("tax", "HT") and eligible == row.get("eligible", True)
    assert len(stored["resources"]) == len(data.get("resources") or [])
    for (_, kind, _, label, amount), row in zip(
        stored["resources"], data.get("resources") or [], strict=True
    ):
        assert kind == row["kind"] and _as_money(row["amount"]) == amount
        assert label == (row.get("label") or "").strip()
        assert len(label) <= 200 and "\x00" not in label


def test_fuzzed_plans_on_a_draft_are_stored_exactly_or_refused_cleanly(world):
    porteur = world["users"]["porteur"]
    case = world["draft"]

    @FUZZ
    @given(data=plans)
    def run(data):
        before = dossier(case.pk)
        try:
            services.case_update(actor=porteur, case=case, data={"financing_plan": data})
        except DomainError as exc:
            assert_french(exc)
            assert dossier(case.pk) == before, "a refused plan left something written"
            return
        assert isinstance(data, dict)
        assert_stored_as_given(case.pk, data)
        after = dossier(case.pk)
        assert after["outbox"] == before["outbox"] + 1  # one case.updated event
        assert after["requests"] == before["requests"] and after["deadlines"] == before["deadlines"]
        assert after["case"][0] == CaseState.DRAFT

    run()


def test_fuzzed_plans_after_submission_never_half_write(world):
    """In ``incomplete`` the rules bind and the requests follow their lines: a refused plan
    must leave the lines, the requests (and their amounts) and the deadlines as they were."""
    porteur, agent = world["users"]["porteur"], world["users"]["agent"]
    case = world["submitted"]
    transition_apply(
        instance=case, name="request_documents", actor=agent, data={"documents": ["Devis"]}
    )
    case.refresh_from_db()
    assert case.state == CaseState.INCOMPLETE
    fr = case.funding_requests.get()

    @FUZZ
    @given(data=plans)
    def run(data):
        before = dossier(case.pk)
        try:
            services.case_update(actor=porteur, case=case, data={"financing_plan": data})
        except DomainError as exc:
            assert exc.message and exc.status in (400, 409)
            assert dossier(case.pk) == before, "a refused plan left something written"
            return
        # Accepted: a balanced plan still requesting DETR, the request follows its line.
        fr.refresh_from_db()
        detr = [r for r in data["resources"] if r.get("kind") == "scheme"]
        assert fr.amount_requested == _as_money(detr[0]["amount"])

    run()
    # And a legitimate change is still accepted afterwards (the dossier was not corrupted).
    services.case_update(
        actor=porteur, case=case, data={"financing_plan": plan("120000.00", "48000.00")}
    )
    fr.refresh_from_db()
    assert fr.amount_requested == Decimal("48000.00")


def test_fuzzed_plans_at_creation_create_all_or_nothing(world):
    porteur = world["users"]["porteur"]
    case_id = world["draft"].pk

    @settings(FUZZ, max_examples=60)
    @given(data=plans, title=labels, state=st.sampled_from(["idea", "draft", "submitted", None]))
    def run(data, title, state):
        before = dossier(case_id)
        try:
            case = services.case_create(
                actor=porteur, data={"title": title, "state": state, "financing_plan": data}
            )
        except DomainError as exc:
            assert exc.message and exc.status == 400
            assert dossier(case_id) == before  # no dossier, no line, no event, no log
            return
        assert dossier(case_id)["cases"] == before["cases"] + 1
        assert_stored_as_given(case.pk, data)
        assert isinstance(title, str) and case.title == title.strip()

    run()


@pytest.mark.parametrize(
    "amount",
    [
        "1e999999999999999999",
        "-1E+1000000",
        "1e999",
        1e308,
        float("inf"),
        "NaN",
        "sNaN",
        "Infinity",
        "1e15",
        "0.001",
        "1_000",
        "١٢٣",
        "１２",
        True,
        None,
        [1],
    ],
)
def test_extreme_amounts_are_refused_in_french(world, amount):
    """The known extremes, one by one (the fuzzing above draws them among others)."""
    case = world["draft"]
    before = dossier(case.pk)
    bad = {"expenses": [{"label": "Travaux", "amount": amount}], "resources": []}
    with pytest.raises(DomainError) as caught:
        services.case_update(
            actor=world["users"]["porteur"], case=case, data={"financing_plan": bad}
        )
    assert "Dépense n° 1" in caught.value.message
    assert dossier(case.pk) == before
