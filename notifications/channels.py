"""Delivery channels: in-app notifications and email (French, HTML and text)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from schemes.models import Territory

from .models import Notification


def in_app(
    *, user_id: int, kind: str, message: str, dedup_key: str, subject=None, aggregate_id=None
) -> Notification:
    """The notification, not saved yet: ``notify_in_app`` creates one, a batch of reminders
    creates many in one statement (the unique key absorbing repeats in both)."""
    return Notification(
        user_id=user_id,
        kind=kind,
        message=message,
        dedup_key=dedup_key[:120],
        subject_type=ContentType.objects.get_for_model(subject) if subject else None,
        subject_id=getattr(subject, "pk", None),
        aggregate_id=aggregate_id,
    )


def notify_in_app(
    *, user_id: int, kind: str, message: str, dedup_key: str, subject=None, aggregate_id=None
) -> Notification | None:
    """Create the notification once (the unique key absorbs a repeat)."""
    note = in_app(
        user_id=user_id,
        kind=kind,
        message=message,
        dedup_key=dedup_key,
        subject=subject,
        aggregate_id=aggregate_id,
    )
    try:
        with transaction.atomic():
            note.save(force_insert=True)
            return note
    except IntegrityError:
        return None


def send_email(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict,
    message_id: str,
    connection=None,
):
    """One email in French, text and HTML. ``message_id`` is deterministic so that a repeat
    can be recognised downstream. Its footer names ``context["territory_name"]``; without
    one, the territory of ``context["case"]``, else the installation's first territory
    (names are cached: no query). ``connection``: an e-mail backend kept open by the caller
    for many messages (one SMTP session instead of one per message)."""
    to = [addr for addr in to if addr]
    if not to:
        return 0
    context = {**context, "site_url": getattr(settings, "GUICHET_SITE_URL", "")}
    if "territory_name" not in context:
        case = context.get("case")
        context["territory_name"] = Territory.name_of(getattr(case, "territory_id", None))
    text = render_to_string(f"notifications/email/{template}.txt", context)
    html = render_to_string(f"notifications/email/{template}.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    msg = EmailMultiAlternatives(
        subject=f"[Guichet] {subject}",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": f"<{message_id}@{domain}>", "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    msg.attach_alternative(html, "text/html")
    return msg.send()
