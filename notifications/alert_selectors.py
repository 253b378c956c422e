"""Reads of alerts, already scoped to what the user may see."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from cases.models import FundingRequest, PaymentClaim, User
from cases.permissions import roles_for
from engine.errors import DomainError

from .models import Alert

R = User.Role
TERRITORY_WIDE = roles_for("territory_read")


def _visible(user) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("organisation", "case", "subject_type")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    role = user.effective_role
    if role in TERRITORY_WIDE:
        if user.is_superuser:
            return qs
        if user.territory_id is None:
            return qs.none()
        # An alert is about a dossier, or about an organisation (treasury risk).
        return qs.filter(
            Q(case__territory_id=user.territory_id)
            | Q(case__isnull=True, organisation__territory_id=user.territory_id)
            | Q(territory_id=user.territory_id)  # about the programme (an action sheet)
        )
    if role == R.PORTEUR:
        if user.organisation_id is None:
            return qs.none()
        return qs.filter(
            Q(organisation_id=user.organisation_id) | Q(case__organisation_id=user.organisation_id)
        )
    if role == R.EPCI_PARTNER:
        if user.epci_id is None:
            return qs.none()
        return qs.filter(Q(organisation__epci_id=user.epci_id) | Q(case__epci_id=user.epci_id))
    if role == R.FUNDER_INSTRUCTOR:
        if user.funder_id is None:
            return qs.none()
        claims = PaymentClaim.objects.filter(
            funding_request__scheme__funder_id=user.funder_id
        ).values("pk")
        requests = FundingRequest.objects.filter(scheme__funder_id=user.funder_id).values("pk")
        return qs.filter(
            Q(subject_type=ContentType.objects.get_for_model(PaymentClaim), subject_id__in=claims)
            | Q(
                subject_type=ContentType.objects.get_for_model(FundingRequest),
                subject_id__in=requests,
            )
        )
    return qs.none()


def alert_list(*, user, filters: dict | None = None) -> QuerySet[Alert]:
    """The alerts the user may see, most severe and most recent first.

    ``filters``: ``kind`` and ``state`` (code names of ``Alert.Kind`` / ``Alert.State``)."""
    qs = _visible(user)
    filters = filters or {}
    kind = filters.get("kind")
    if kind:
        if kind not in Alert.Kind.values:
            raise DomainError(
                f"Type d'alerte inconnu : « {str(kind)[:40]} ».",
                errors={"kind": ["Valeur invalide : " + ", ".join(Alert.Kind.values) + "."]},
            )
        qs = qs.filter(kind=kind)
    state = filters.get("state")
    if state:
        if state not in Alert.State.values:
            raise DomainError(
                f"État d'alerte inconnu : « {str(state)[:40]} ».",
                errors={"state": ["Valeur invalide : " + ", ".join(Alert.State.values) + "."]},
            )
        qs = qs.filter(state=state)
    return qs.order_by("-severity", "-updated_at", "-id")
