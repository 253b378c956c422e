"""What each domain event tells whom: the notice declared on the transition that emitted it
(``engine.lifecycle.Notice``), alerts and messages."""

from __future__ import annotations

from django.db import transaction

from cases.models import Case, FundingRequest, PaymentClaim, User
from cases.rules import euros
from engine.transitions import registrations
from schemes.models import Territory

from .channels import notify_in_app, send_email

R = User.Role


def notice_for(topic: str):
    """The notice a transition's event sends: declared on the transition itself
    (``cases.lifecycle``), found by the event's topic « <model>.<transition> »."""
    model_name, _, name = topic.partition(".")
    for reg in registrations():
        if reg.model._meta.model_name == model_name:
            spec = reg.specs.get(name)
            return spec.notice if spec else None
    return None


def _objects(event):
    model = event.subject_type.model_class()
    subject = model._default_manager.filter(pk=event.subject_id).first()
    case = fr = claim = None
    if isinstance(subject, Case):
        case = subject
    elif isinstance(subject, FundingRequest):
        fr, case = subject, subject.case
    elif isinstance(subject, PaymentClaim):
        claim, fr = subject, subject.funding_request
        case = fr.case
    elif subject is not None and hasattr(subject, "funding_request"):  # e.g. an extension
        fr = subject.funding_request
        case = fr.case
    return subject, case, fr, claim


def _audience(names, case, fr) -> list[User]:
    users: dict[int, User] = {}
    if "porteurs" in names:
        for u in User.objects.filter(
            role=R.PORTEUR, is_active=True, organisation_id=case.organisation_id
        ):
            users[u.pk] = u
    if "referent" in names and case.referent_agent_id:
        users[case.referent_agent_id] = case.referent_agent
    if "funder" in names and fr is not None:
        for u in User.objects.filter(
            role=R.FUNDER_INSTRUCTOR, is_active=True, funder_id=fr.scheme.funder_id
        ):
            users[u.pk] = u
    return list(users.values())


def deliver_to(user, *, event, kind, message, subject, aggregate_id, email=None) -> int:
    """One recipient of an event, in a transaction of its own: the in-app notification
    (its unique key makes a replay a no-op) and, if asked, its e-mail. Committed before the
    next recipient, so a worker killed later repeats nothing delivered here; an SMTP
    failure rolls the notification back and the event is retried for this recipient."""
    with transaction.atomic():
        created = notify_in_app(
            user_id=user.pk,
            kind=kind,
            message=message,
            dedup_key=f"event:{event.pk}",
            subject=subject,
            aggregate_id=aggregate_id,
        )
        if created is None:
            return 0
        if email is not None:
            send_email(
                to=[user.email],
                subject=email["subject"],
                template="event",
                context=email["context"],
                message_id=f"event-{event.pk}-{user.pk}",
            )
    return 1


def _alert_audience(alert) -> dict[int, User]:
    """The porteurs of the organisation and the referent agent (of the organisation's live
    dossiers when the alert is about the organisation); for an alert that asks the funder
    to decide on its request (a works deadline missed), its funder's instructors too. An
    alert about the programme (no organisation) reaches its territory's direction and agents."""
    if alert.organisation_id is None:
        if alert.territory_id is None:  # no one to tell: no query
            return {}
        staff = User.objects.filter(
            role__in=(R.DIRECTOR, R.AGENT), is_active=True, territory_id=alert.territory_id
        )
        return {u.pk: u for u in staff}
    users = {
        u.pk: u
        for u in User.objects.filter(
            role=R.PORTEUR, is_active=True, organisation_id=alert.organisation_id
        )
    }
    if alert.case and alert.case.referent_agent_id:
        users[alert.case.referent_agent_id] = alert.case.referent_agent
    elif alert.case is None:  # about the organisation: the referents of its live dossiers
        from cases.models import CASE_LIVE

        for u in User.objects.filter(
            referent_cases__organisation_id=alert.organisation_id,
            referent_cases__state__in=CASE_LIVE,
            is_active=True,
        ).distinct():
            users[u.pk] = u
    if alert.kind in FUNDER_DECIDES and alert.subject_type.model_class() is FundingRequest:
        fr = FundingRequest.objects.select_related("scheme").filter(pk=alert.subject_id).first()
        if fr is not None:
            users.update({u.pk: u for u in _audience(("funder",), alert.case, fr)})
    return users


#: Alerts that ask the request's funder to decide: its instructors hear of them too.
FUNDER_DECIDES = frozenset({"works_deadline_missed"})


def handle_alert_event(event) -> int:
    """An alert opened or worsened: the porteurs of the organisation and the referent agent
    (and, for a decision of the funder, its instructors: ``_alert_audience``) hear of it
    in the app; by email too when it is serious."""
    from .models import Alert

    alert = (
        Alert.objects.select_related("case", "case__referent_agent", "organisation", "subject_type")
        .filter(pk=event.subject_id)
        .first()
    )
    if alert is None or alert.state == Alert.State.RESOLVED:
        return 0
    users = _alert_audience(alert)
    territory = Territory.name_of(
        alert.case.territory_id
        if alert.case
        else (alert.organisation.territory_id if alert.organisation else alert.territory_id)
    )
    count = 0
    for user in users.values():
        email = None
        if alert.severity >= Alert.Severity.WARNING:
            email = {
                "subject": f"Alerte : {alert.get_kind_display()}",
                "context": {
                    "user": user,
                    "message": alert.message,
                    "case": alert.case,
                    "territory_name": territory,
                },
            }
        count += deliver_to(
            user,
            event=event,
            kind=f"alert.{alert.kind}",
            message=alert.message,
            subject=alert,
            aggregate_id=alert.case_id,
            email=email,
        )
    return count


def handle_message_event(event) -> int:
    """A message from the porteur reaches the referent agent; one from the PETR reaches the
    organisation's porteurs. Internal notes stay inside."""
    from cases.models import Message

    message = (
        Message.objects.select_related("case", "author", "case__referent_agent")
        .filter(pk=event.subject_id)
        .first()
    )
    if message is None or message.internal:
        return 0
    case = message.case
    names = ("referent",) if message.author.role == R.PORTEUR else ("porteurs",)
    text = f"Nouveau message sur le dossier {case.reference} : « {message.body[:200]} »"
    count = 0
    for user in _audience(names, case, None):
        if user.pk == message.author_id:
            continue
        count += deliver_to(
            user, event=event, kind="message", message=text, subject=case, aggregate_id=case.pk
        )
    return count


def handle_correction_event(event) -> int:
    """A correction asked reaches the organisation's porteurs; a correction made reaches
    who asked and the referent agent (issue 12)."""
    from cases.models import CorrectionRequest
    from cases.services.corrections import FIELDS

    correction = (
        CorrectionRequest.objects.select_related("case", "requested_by", "case__referent_agent")
        .filter(pk=event.subject_id)
        .first()
    )
    if correction is None or event.topic == "correctionrequest.close":
        return 0
    case = correction.case
    what = FIELDS.get(correction.target) or f"la pièce « {correction.target} »"
    if event.topic == "correction.requested":
        text = (
            f"Correction demandée sur le dossier {case.reference} ({what}) : "
            f"« {correction.body[:200]} »"
        )
        audience = _audience(("porteurs",), case, None)
    else:
        text = f"Le porteur a corrigé {what} sur le dossier {case.reference}."
        audience = {u.pk: u for u in _audience(("referent",), case, None)}
        audience[correction.requested_by_id] = correction.requested_by
        audience = list(audience.values())
    # The notification's kind names the step, whichever service emitted its event.
    kind = (
        "correction.requested" if event.topic == "correction.requested" else "correction.corrected"
    )
    return sum(
        deliver_to(u, event=event, kind=kind, message=text, subject=case, aggregate_id=case.pk)
        for u in audience
        if u.pk != event.actor_id
    )


def handle_event(event) -> int:
    if event.topic in ("alert.opened", "alert.raised"):
        return handle_alert_event(event)
    if event.topic == "message.posted":
        return handle_message_event(event)
    if event.topic.startswith(("correction.", "correctionrequest.")):
        return handle_correction_event(event)
    notice = notice_for(event.topic)
    if notice is None:
        return 0
    subject, case, fr, claim = _objects(event)
    if case is None:
        return 0
    data = event.payload.get("data") or {}
    docs = data.get("documents") or case.missing_documents or []
    text = notice.text.format(
        case=case,
        fr=fr,
        claim=claim,
        receipt=case.receipt_date.strftime("%d/%m/%Y") if case.receipt_date else "—",
        documents=", ".join(str(d) for d in docs) or "voir le dossier",
        granted=euros(fr.amount_granted) if fr and fr.amount_granted else "—",
        paid=euros(claim.paid_amount) if claim and claim.paid_amount else "—",
        claim_kind=claim.get_kind_display().lower() if claim else "",
        claim_amount=euros(claim.amount) if claim else "",
    )
    territory = Territory.name_of(case.territory_id)  # once per event, from the cache
    count = 0
    for user in _audience(notice.audience, case, fr):
        email = None
        if notice.email:
            email = {
                "subject": text[:120],
                "context": {
                    "user": user,
                    "message": text,
                    "case": case,
                    "territory_name": territory,
                },
            }
        count += deliver_to(
            user,
            event=event,
            kind=event.topic,
            message=text,
            subject=subject,
            aggregate_id=case.pk,
            email=email,
        )
    return count
