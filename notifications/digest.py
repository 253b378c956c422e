"""Digests: each agent's daily summary, the director's weekly one. Once per period."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, CaseState, User
from engine.models import Deadline
from schemes.models import Territory

from .channels import notify_in_app, send_email
from .labels import deadline_label
from .models import Alert, DigestLog

R = User.Role
HORIZON_DAYS = 7


def _claim(user: User, period: str) -> bool:
    try:
        with transaction.atomic():
            DigestLog.objects.create(user=user, period=period)
        return True
    except IntegrityError:
        return False


def agent_digest_lines(user: User, today: dt.date) -> list[str]:
    case_ids = list(Case.objects.filter(referent_agent=user).values_list("pk", flat=True))
    titles = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "reference"))
    lines = []
    deadlines = Deadline.objects.filter(
        aggregate_id__in=case_ids,
        state=Deadline.State.OPEN,
        due_on__lte=today + dt.timedelta(days=HORIZON_DAYS),
    ).order_by("due_on")
    for d in deadlines.iterator():
        status = "EN RETARD" if d.due_on < today else "à venir"
        lines.append(
            f"{d.due_on:%d/%m/%Y} ({status}) — {titles.get(d.aggregate_id, d.aggregate_id)} : "
            f"{deadline_label(d.kind)}"
        )
    for alert in Alert.objects.filter(case_id__in=case_ids, state=Alert.State.OPEN):
        lines.append(f"Alerte {alert.get_severity_display().lower()} — {alert.message}")
    return lines


def digests_daily(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    sent = 0
    for user in User.objects.filter(role=R.AGENT, is_active=True).iterator():
        lines = agent_digest_lines(user, today)
        if not lines:
            continue
        sent += _deliver(user, f"daily:{today.isoformat()}", "Votre journée", lines)
    return sent


def director_digest_lines(today: dt.date, territory_id: int | None) -> list[str]:
    """The week of one territory (its dossiers, their deadlines and alerts)."""
    cases = Case.objects.filter(territory_id=territory_id)
    overdue = Counter(
        Deadline.objects.filter(
            state=Deadline.State.OPEN, due_on__lt=today, aggregate_id__in=cases.values("pk")
        ).values_list("kind", flat=True)
    )
    alerts = Counter(
        Alert.objects.filter(state=Alert.State.OPEN)
        .filter(
            Q(case__territory_id=territory_id)
            | Q(case__isnull=True, organisation__territory_id=territory_id)
            | Q(territory_id=territory_id)
        )
        .values_list("kind", "severity")
    )
    states = Counter(cases.values_list("state", flat=True))
    labels = dict(CaseState.choices)
    lines = [f"Dossiers « {labels.get(s, s)} » : {n}" for s, n in sorted(states.items())]
    lines += [f"Échéances dépassées — {deadline_label(k)} : {n}" for k, n in overdue.items()]
    lines += [
        f"Alertes ouvertes {Alert.Kind(k).label} (gravité {s}) : {n}"
        for (k, s), n in sorted(alerts.items())
    ]
    return lines + treasury_lines(today, territory_id)


#: The director's digest lists this many communes, the deepest treasury troughs first.
TREASURY_TOP = 5


def treasury_lines(today: dt.date, territory_id: int | None) -> list[str]:
    """The communes of the territory whose p80 treasury trough goes deepest per inhabitant
    (``cases.treasury.treasury_ranking``), at most ``TREASURY_TOP``."""
    from cases.models import Organisation
    from cases.rules import euros
    from cases.treasury_ranking import treasury_ranking

    if territory_id is None:
        return []
    rows = treasury_ranking(Organisation.objects.filter(territory_id=territory_id), today=today)
    deepest = [r for r in rows if r.population and r.depth > 0][:TREASURY_TOP]
    return [
        f"Trésorerie — point bas n° {rank} : {r.organisation.name}, "
        f"{euros(r.forecast.trough_p80.balance)} en {r.forecast.trough_p80.month:%m/%Y} "
        f"({euros(r.per_inhabitant)} par habitant, délais au 80e centile)"
        for rank, r in enumerate(deepest, 1)
    ]


def digests_weekly(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    year, week, _ = today.isocalendar()
    lines: dict[int | None, list[str]] = {}
    sent = 0
    for user in User.objects.filter(role=R.DIRECTOR, is_active=True).iterator():
        if user.territory_id not in lines:
            lines[user.territory_id] = director_digest_lines(today, user.territory_id)
        sent += _deliver(
            user, f"weekly:{year}-W{week:02d}", "Semaine du territoire", lines[user.territory_id]
        )
    return sent


def _deliver(user: User, period: str, title: str, lines: list[str]) -> int:
    with transaction.atomic():
        if not _claim(user, period):
            return 0
        message = f"{title} : {len(lines)} point(s) à suivre."
        notify_in_app(user_id=user.pk, kind="digest", message=message, dedup_key=period)
        send_email(
            to=[user.email],
            subject=title,
            template="digest",
            context={
                "user": user,
                "title": title,
                "lines": lines,
                "territory_name": Territory.name_of(user.territory_id),
            },
            message_id=f"digest-{period}-{user.pk}",
        )
    return 1
