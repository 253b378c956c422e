"""The French legal calendar: CPC art. 641 and 642, the 11 national holidays, no
Alsace-Moselle days (the territory is in the Tarn). Pure functions, no database."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import add_months_raw, is_holiday, is_working_day, next_working_day, period_end

D = dt.date


# ---------------------------------------------------------------- the examples of domain.md


def test_domain_example_two_years_from_29_february():
    # 2024-02-29 + 2 years → 2026-02-28 (no 29th; Saturday) → Monday 2026-03-02
    assert period_end(D(2024, 2, 29), years=2, extend=False) == D(2026, 2, 28)
    assert period_end(D(2024, 2, 29), years=2) == D(2026, 3, 2)


def test_domain_example_three_months_landing_on_labour_day():
    # 2025-02-01 + 3 months → 2025-05-01 (holiday, Thursday) → 2025-05-02
    assert period_end(D(2025, 2, 1), months=3, extend=False) == D(2025, 5, 1)
    assert period_end(D(2025, 2, 1), months=3) == D(2025, 5, 2)


# ---------------------------------------------------------------- CPC 641: periods in days


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (D(2025, 3, 3), 1, D(2025, 3, 4)),  # Monday event: the period runs from Tuesday
        (D(2025, 3, 3), 10, D(2025, 3, 13)),  # Thursday, not the 12th
        (D(2025, 3, 3), 30, D(2025, 4, 2)),  # across a 31-day month
        (D(2024, 2, 20), 10, D(2024, 3, 1)),  # across a leap-year February
        (D(2025, 2, 20), 10, D(2025, 3, 3)),  # non-leap: 2 March is a Sunday → Monday
    ],
)
def test_day_periods_do_not_count_the_event_day(start, days, end):
    assert period_end(start, days=days) == end


def test_zero_day_period_is_the_event_day_when_working():
    assert period_end(D(2025, 3, 5), days=0) == D(2025, 3, 5)


# ---------------------------------------------------------------- CPC 641: months and years


@pytest.mark.parametrize(
    ("start", "months", "raw"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
        (D(2025, 3, 31), 1, D(2025, 4, 30)),
        (D(2025, 5, 31), 4, D(2025, 9, 30)),
        (D(2025, 1, 30), 1, D(2025, 2, 28)),
        (D(2025, 1, 28), 1, D(2025, 2, 28)),  # same day number exists
        (D(2025, 12, 15), 1, D(2026, 1, 15)),  # year change
        (D(2025, 11, 30), 3, D(2026, 2, 28)),  # year change and clamping
        (D(2025, 6, 15), 24, D(2027, 6, 15)),
        (D(2025, 6, 15), -6, D(2024, 12, 15)),
    ],
)
def test_month_periods_end_on_same_day_number_clamped_to_month_end(start, months, raw):
    assert add_months_raw(start, months) == raw
    assert period_end(start, months=months, extend=False) == raw


def test_month_end_clamp_then_weekend_runs_to_monday():
    # 31 Jan 2026 + 1 month → 28 Feb 2026, a Saturday → Monday 2 March (CPC 642)
    assert period_end(D(2026, 1, 31), months=1, extend=False) == D(2026, 2, 28)
    assert period_end(D(2026, 1, 31), months=1) == D(2026, 3, 2)
    # 31 Jan 2025 + 1 month → 28 Feb 2025, a Friday: stays
    assert period_end(D(2025, 1, 31), months=1) == D(2025, 2, 28)
    # 31 Jan 2024 + 1 month → 29 Feb 2024, a Thursday: stays
    assert period_end(D(2024, 1, 31), months=1) == D(2024, 2, 29)


def test_years_are_twelve_months():
    assert period_end(D(2025, 4, 15), years=2) == period_end(D(2025, 4, 15), months=24)
    assert period_end(D(2025, 4, 15), years=1, months=6) == D(2026, 10, 15)


def test_months_then_days():
    # 2025-01-31 + 1 month → 2025-02-28, + 2 days → 2025-03-02 (Sunday) → 2025-03-03
    assert period_end(D(2025, 1, 31), months=1, days=2) == D(2025, 3, 3)


# ---------------------------------------------------------------- CPC 642: weekends


def test_period_ending_on_saturday_or_sunday_runs_to_monday():
    assert period_end(D(2025, 3, 1), days=7) == D(2025, 3, 10)  # Sat 8 → Mon 10
    assert period_end(D(2025, 3, 2), days=7) == D(2025, 3, 10)  # Sun 9 → Mon 10
    assert period_end(D(2025, 3, 1), days=7, extend=False) == D(2025, 3, 8)


# ---------------------------------------------------------------- CPC 642: French holidays


@pytest.mark.parametrize(
    ("holiday", "next_day", "name"),
    [
        (D(2026, 1, 1), D(2026, 1, 2), "jour de l'an (jeudi)"),
        (D(2026, 4, 6), D(2026, 4, 7), "lundi de Pâques"),
        (D(2025, 5, 1), D(2025, 5, 2), "fête du travail"),
        (D(2026, 5, 8), D(2026, 5, 11), "8 mai (vendredi, puis week-end)"),
        (D(2026, 5, 14), D(2026, 5, 15), "Ascension"),
        (D(2026, 5, 25), D(2026, 5, 26), "lundi de Pentecôte"),
        (D(2025, 5, 29), D(2025, 5, 30), "Ascension 2025"),
        (D(2025, 6, 9), D(2025, 6, 10), "lundi de Pentecôte 2025"),
        (D(2026, 7, 14), D(2026, 7, 15), "fête nationale"),
        (D(2025, 8, 15), D(2025, 8, 18), "Assomption (vendredi)"),
        (D(2027, 11, 1), D(2027, 11, 2), "Toussaint (lundi)"),
        (D(2025, 11, 11), D(2025, 11, 12), "Armistice"),
        (D(2025, 12, 25), D(2025, 12, 26), "Noël"),
    ],
)
def test_each_kind_of_holiday_pushes_the_end(holiday, next_day, name):
    assert is_holiday(holiday), name
    assert not is_working_day(holiday), name
    assert next_working_day(holiday) == next_day, name
    # a period in days landing on that holiday
    assert period_end(holiday - dt.timedelta(days=10), days=10) == next_day, name
    # a period in months landing on that holiday
    start = add_months_raw(holiday, -1)
    if start.day == holiday.day:
        assert period_end(start, months=1) == next_day, name


def test_moveable_feasts_follow_easter():
    # Easter 2027 is 28 March: Easter Monday 29 March, Ascension 6 May, Whit Monday 17 May
    for day in (D(2027, 3, 29), D(2027, 5, 6), D(2027, 5, 17)):
        assert is_holiday(day)
    # the same dates in 2026 are ordinary days (Easter 2026 is 5 April)
    assert is_working_day(D(2026, 3, 30))
    assert not is_holiday(D(2026, 5, 6))


@pytest.mark.parametrize(
    "day",
    [
        D(2025, 12, 26),  # Saint-Étienne: Alsace-Moselle only
        D(2025, 4, 18),  # Vendredi saint 2025: Alsace-Moselle only
        D(2026, 4, 3),  # Vendredi saint 2026
    ],
)
def test_no_alsace_moselle_days_in_the_tarn(day):
    assert day.weekday() == 4
    assert not is_holiday(day)
    assert is_working_day(day)
    assert period_end(day - dt.timedelta(days=3), days=3) == day


def test_national_holidays_count_is_eleven():
    for year in (2025, 2026, 2027, 2030):
        days = [D(year, 1, 1) + dt.timedelta(days=n) for n in range(366)]
        assert sum(1 for d in days if d.year == year and is_holiday(d)) == 11


# ---------------------------------------------------------------- year change


def test_year_change_on_new_year_day():
    # 31 Dec 2025 + 1 day → 1 Jan 2026 (holiday, Thursday) → Friday 2 Jan
    assert period_end(D(2025, 12, 31), days=1) == D(2026, 1, 2)
    # 1 Jan 2028 is a Saturday: the holiday and the weekend chain to Monday 3 Jan
    assert period_end(D(2027, 12, 1), months=1) == D(2028, 1, 3)
    # the holiday table is read for the end date's year, not the start's
    assert period_end(D(2026, 12, 20), days=12) == D(2027, 1, 4)  # 1 Jan 2027 Fri, weekend


def test_next_working_day_is_identity_on_working_days():
    assert next_working_day(D(2025, 3, 5)) == D(2025, 3, 5)


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    days=st.integers(0, 400),
    months=st.integers(0, 60),
)
def test_period_end_is_the_first_working_day_on_or_after_the_raw_end(start, days, months):
    raw = period_end(start, days=days, months=months, extend=False)
    end = period_end(start, days=days, months=months)
    assert is_working_day(end)
    assert raw <= end <= raw + dt.timedelta(days=4)
    # every day skipped was a weekend or holiday
    day = raw
    while day < end:
        assert not is_working_day(day)
        day += dt.timedelta(days=1)
    if months and not days:
        # same day number, or the last day of a shorter month
        clamped = raw.day < start.day and (raw + dt.timedelta(days=1)).day == 1
        assert raw.day == start.day or clamped
