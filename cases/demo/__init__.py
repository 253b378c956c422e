"""Demo data: users for every role, the organisations of the 72 real 2019 DETR/DSIL
operations of the territory, dossiers spread over the whole lifecycle, and LEADER
dossiers through a programming committee.

Everything goes through the services and the engine's transition service, exactly as a
user would, with the builders the tests use too (``cases.builders``): dossiers are created
by their porteur, documents uploaded, every state change is a ``transition_apply`` with
the event's (past) date. Event dates are computed backwards from today so that the
deadlines they open are consistent with the state the dossier is left in (a dossier left
« déposé » is still within its completeness period, a grant left unused for more than two
years is made « caduc » by its funder once the sweep marked it missed, and so on).

Private organisations and LEADER dossiers are fictional; the DETR/DSIL operations (title,
holder, cost, subsidy, rate) are the real ones (ANCT open data, Licence Ouverte 2.0).

``load_demo()`` is idempotent: if the demo is already loaded, it does nothing.

Each funder's own legal track (domain.md, revised rules; ADR 009) shows too: the
préfecture acknowledges its DETR/DSIL requests weeks after the deposit and declares them
complete on its own date (their eligibility start and implicit-decision date follow), a
start-of-works deadline is extended, balances are computed on the actual eligible cost
and an overpaid grant is ordered back, a committee member declares an interest in one
project, and a written consultation of the committee receives its replies.

The package, by area: ``constants`` (the cast and proportions), ``people`` (accounts and
organisations), ``operations`` (the DETR/DSIL operations, stage by stage),
``legal_track`` (the funders' receipts, an extension, balances on the actual cost and a
recovery order), ``leader`` (LEADER and the committee), ``consultation`` (declarations
of interest, the written consultation), ``timeline`` (event dates, the report), ``pdf``
(the documents' PDF), ``builder`` (shared steps and the order of the load).
"""

from __future__ import annotations

import datetime as dt

from ..models import Case, User
from .builder import DemoBuilder
from .constants import MARKER_TITLE, MARKER_USER, PASSWORD
from .pdf import tiny_pdf
from .people import commune_siren
from .timeline import Report, Timeline, money

__all__ = [
    "MARKER_TITLE",
    "MARKER_USER",
    "PASSWORD",
    "DemoBuilder",
    "Report",
    "Timeline",
    "commune_siren",
    "demo_loaded",
    "load_demo",
    "money",
    "tiny_pdf",
]


def demo_loaded() -> bool:
    return (
        User.objects.filter(username=MARKER_USER).exists()
        and Case.objects.filter(title=MARKER_TITLE).exists()
    )


def load_demo(*, today: dt.date | None = None) -> Report:
    if demo_loaded():
        return Report(skipped=True)
    return DemoBuilder(today=today).run()
