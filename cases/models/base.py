"""What the models of the dossiers share: money columns and their bounds, the log of
transitions."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

ZERO = Decimal("0.00")


def money_field(verbose_name="", **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


#: The largest amount a money column holds: 12 digits before the comma, 2 after.
MONEY_MAX = Decimal("999999999999.99")


def money_bounds(prefix: str, *fields: str) -> list[models.CheckConstraint]:
    """The bound of ``money_field`` checked by the database itself. PostgreSQL's
    numeric(14, 2) refuses a larger amount, SQLite stores any number — and a row that
    cannot be read back as money breaks every list showing it: the same bound on both."""
    return [
        models.CheckConstraint(
            condition=models.Q(**{f"{name}__gte": -MONEY_MAX, f"{name}__lte": MONEY_MAX})
            | models.Q(**{f"{name}__isnull": True}),
            name=f"{prefix}_{name}_bounded",
        )
        for name in fields
    ]


def logged(func):
    """A transition whose run is written to django-fsm-log's history (by whom, why)."""
    return fsm_log_by(fsm_log_description(func))
