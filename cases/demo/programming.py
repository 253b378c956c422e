"""The demo's envelopes (issue 14): for the current year and the one before, each active
scheme's envelope on the territory is the figure its parameters carry (``Scheme.envelope``),
so that the funders' page, the API and the public page show the credits' progress.
Idempotent: an envelope already there stays."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schemes.models import Envelope, Scheme, Territory


def envelopes_create(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    made = 0
    for territory in Territory.objects.all():
        for scheme in Scheme.objects.filter(active=True, envelope__isnull=False):
            for year in (today.year - 1, today.year):
                _e, created = Envelope.objects.get_or_create(
                    scheme=scheme,
                    territory=territory,
                    year=year,
                    action_sheet=None,
                    defaults={"amount": scheme.envelope},
                )
                made += created
    return made
