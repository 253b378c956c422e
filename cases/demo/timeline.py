"""Event dates of the demo's dossiers, and what a load reports."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from engine.calendar import is_working_day

from .constants import CENT


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))


def working_day_before(day: dt.date) -> dt.date:
    """``day`` if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


@dataclass
class Report:
    skipped: bool = False
    users: int = 0
    organisations: int = 0
    cases: Counter = field(default_factory=Counter)
    payments: int = 0
    sweep: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.skipped:
            return ["Données de démonstration déjà chargées : rien à faire."]
        out = [
            f"{self.users} utilisateurs, {self.organisations} organisations, "
            f"{sum(self.cases.values())} dossiers, {self.payments} paiements."
        ]
        out += [f"  {state}: {n}" for state, n in sorted(self.cases.items())]
        out += [f"  balayage {name}: {n}" for name, n in self.sweep.items()]
        return out


class Timeline:
    """Event dates of one dossier, computed forward from the receipt as offsets (days),
    then shifted so that its last event falls ``last_ago`` days before today, and moved
    back to a working day. Every date is therefore in the past and in order."""

    def __init__(self, today: dt.date, rng: random.Random):
        self.today = today
        self.rng = rng
        self.offsets: dict[str, int] = {"receipt": 0}
        self.cursor = 0
        self.dates: dict[str, dt.date] = {}

    def then(self, name: str, low: int, high: int | None = None) -> Timeline:
        self.cursor += self.rng.randint(low, high or low)
        self.offsets[name] = self.cursor
        return self

    def anchor(self, last: str, low: int, high: int | None = None) -> dict[str, dt.date]:
        last_ago = self.rng.randint(low, high or low)
        origin = self.today - dt.timedelta(days=last_ago + self.offsets[last])
        for name, offset in self.offsets.items():
            day = working_day_before(origin + dt.timedelta(days=offset))
            self.dates[name] = min(day, self.today - dt.timedelta(days=1))
        return self.dates
