"""A user's deadlines as an iCalendar feed (RFC 5545), behind a secret-token URL."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from cases.models import Case, User
from engine.models import Deadline

from .labels import PARTY_LABELS, deadline_label
from .models import FeedToken

R = User.Role


def feed_token_for(user: User) -> FeedToken:
    token, _ = FeedToken.objects.get_or_create(user=user)
    return token


def feed_token_rotate(user: User) -> FeedToken:
    FeedToken.objects.filter(user=user).delete()
    return FeedToken.objects.create(user=user)


def user_deadlines(user: User):
    """The deadlines this user follows: a porteur its organisation's, an agent those of the
    dossiers it is referent for."""
    if user.role == R.PORTEUR and user.organisation_id:
        cases = Case.objects.filter(organisation_id=user.organisation_id)
    elif user.role == R.AGENT:
        cases = Case.objects.filter(referent_agent=user)
    else:
        return Deadline.objects.none()
    return Deadline.objects.filter(
        aggregate_id__in=cases.values("pk"),
        state__in=[Deadline.State.OPEN, Deadline.State.SUSPENDED],
    ).order_by("due_on")


def calendar_for(user: User) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Guichet unique//Échéances//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Guichet — échéances de {user.get_full_name() or user.username}")
    cases = {}
    deadlines = list(user_deadlines(user))
    for case in Case.objects.filter(pk__in={d.aggregate_id for d in deadlines}).only(
        "pk", "reference", "title"
    ):
        cases[case.pk] = case
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    now = timezone.now()
    for d in deadlines:
        case = cases.get(d.aggregate_id)
        event = Event()
        event.add("uid", f"deadline-{d.pk}@{domain}")
        event.add("dtstamp", now)
        event.add("dtstart", d.due_on)
        event.add("dtend", d.due_on + dt.timedelta(days=1))
        ref = f"{case.reference} " if case else ""
        event.add("summary", f"{ref}{deadline_label(d.kind)}")
        desc = f"Doit agir : {PARTY_LABELS.get(d.party, d.party)}."
        if case:
            desc = f"Dossier {case.reference} « {case.title} ». " + desc
        if d.state == Deadline.State.SUSPENDED:
            desc += " Délai suspendu (pièces demandées)."
        event.add("description", desc)
        event.add("status", "TENTATIVE" if d.state == Deadline.State.SUSPENDED else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        if case:
            event.add("url", f"{settings.GUICHET_SITE_URL}/dossiers/{case.pk}/")
        cal.add_component(event)
    return cal.to_ical()
