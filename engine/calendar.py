"""The French legal calendar for periods (CPC art. 641 and 642, EU Reg. 1182/71).

- A period in days does not count the day of the event: it ends ``n`` days after it.
- A period in months or years ends on the same day number; if that day does not exist in
  the target month, on its last day.
- A period ending on a Saturday, Sunday or public holiday runs to the next working day.
Holidays are the 11 national days (Code du travail L3133-1) from the ``holidays``
package, without the Alsace-Moselle days.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def _holidays_for(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.France(years=year).keys())


def is_holiday(day: dt.date) -> bool:
    return day in _holidays_for(day.year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the next one (CPC 642)."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_months_raw(start: dt.date, months: int) -> dt.date:
    """Same day number ``months`` later, clamped to the month's last day (CPC 641)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


def period_end(
    start: dt.date, *, days: int = 0, months: int = 0, years: int = 0, extend: bool = True
) -> dt.date:
    """The last day of a legal period that starts with the event on ``start``.

    ``extend`` applies CPC 642 (weekend or holiday runs to the next working day).
    """
    end = start
    if years or months:
        end = add_months_raw(end, years * 12 + months)
    if days:
        end = end + dt.timedelta(days=days)
    return next_working_day(end) if extend else end
