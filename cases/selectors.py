"""Reads, already scoped to what the user may see. Every list starts here."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from engine.models import Deadline

from .models import Case, Document, FundingRequest, Organisation, PaymentClaim, User
from .permissions import roles_for

R = User.Role
TERRITORY_WIDE = roles_for("territory_read")


def in_territory(qs: QuerySet, user, field: str = "territory_id") -> QuerySet:
    """The rows of the user's territory (``field`` names the row's territory).

    A superuser is installation-wide; a staff account bound to a territory sees that one;
    anyone else (a staff account left without a territory) sees nothing. Porteurs and
    funder instructors are not scoped here: by their organisation and their funder."""
    if user.is_superuser:
        return qs
    if user.territory_id is None:
        return qs.none()
    return qs.filter(**{field: user.territory_id})


def case_list(*, user) -> QuerySet[Case]:
    qs = Case.objects.select_related("organisation", "referent_agent", "epci", "own_share_case")
    role = user.effective_role
    if role in TERRITORY_WIDE:
        return in_territory(qs, user)
    if role == R.PORTEUR:
        return (
            qs.filter(organisation_id=user.organisation_id) if user.organisation_id else qs.none()
        )
    if role == R.EPCI_PARTNER:
        return in_territory(qs.filter(epci_id=user.epci_id), user) if user.epci_id else qs.none()
    # EXISTS, not a join + DISTINCT over every column: the list then walks the dossiers
    # newest first and stops at the page (a funder's list at 1 M dossiers, issue 16).
    if role == R.FUNDER_INSTRUCTOR:
        # A Région or the État funds several territories: cross-territory on purpose.
        return qs.filter(_has_request(scheme__funder_id=user.funder_id))
    if role == R.COMMITTEE_MEMBER:
        return in_territory(
            qs.filter(_has_request(scheme__committee=True)).exclude(
                state__in=["idea", "scoping", "draft"]
            ),
            user,
        )
    return qs.none()


def _has_request(**lookups) -> Exists:
    """The dossier (``OuterRef("pk")``) has a funding request matching ``lookups``."""
    return Exists(FundingRequest.objects.filter(case=OuterRef("pk"), **lookups))


def case_detail_queryset(*, user) -> QuerySet[Case]:
    return case_list(user=user).prefetch_related(
        "communes",
        "expenses",
        Prefetch("resources", queryset=_resources()),
        Prefetch(
            "funding_requests", queryset=FundingRequest.objects.select_related("scheme__funder")
        ),
    )


def _resources():
    from .models import ResourceLine

    return ResourceLine.objects.select_related("scheme__funder")


def case_get(*, user, pk) -> Case:
    from engine.errors import DomainError

    try:
        return case_detail_queryset(user=user).get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError, OverflowError):
        raise DomainError("Dossier introuvable.", code="not_found") from None


def funding_request_list(*, user) -> QuerySet[FundingRequest]:
    qs = FundingRequest.objects.select_related("case", "scheme", "case__organisation")
    if user.effective_role == R.FUNDER_INSTRUCTOR:
        return qs.filter(scheme__funder_id=user.funder_id)
    return qs.filter(case__in=case_list(user=user).values("pk"))


def extension_list(*, user) -> QuerySet:
    """The extensions of the funding requests the user may see."""
    from .models import Extension

    return Extension.objects.select_related(
        "funding_request", "funding_request__scheme", "funding_request__case"
    ).filter(funding_request__in=funding_request_list(user=user).values("pk"))


def claim_list(*, user) -> QuerySet[PaymentClaim]:
    qs = PaymentClaim.objects.select_related(
        "funding_request", "funding_request__scheme", "funding_request__case"
    )
    return qs.filter(funding_request__in=funding_request_list(user=user).values("pk"))


def document_list(*, user, case: Case) -> QuerySet[Document]:
    return Document.objects.filter(case=case)


def organisation_list(*, user) -> QuerySet[Organisation]:
    qs = Organisation.objects.select_related("commune", "epci")
    role = user.effective_role
    if role == R.PORTEUR:
        return qs.filter(pk=user.organisation_id)
    if role == R.FUNDER_INSTRUCTOR:
        return qs  # cross-territory, like its dossiers
    return in_territory(qs, user)


#: Who reads an organisation's treasury forecast besides the organisation itself: its
#: territory's staff (issue 13). A funder's instructor or a committee member does not.
TREASURY_STAFF = (R.AGENT, R.DIRECTOR, R.EPCI_PARTNER, R.ADMIN)


def treasury_organisation_list(*, user) -> QuerySet[Organisation]:
    """The organisations whose treasury forecast the user may read."""
    role = user.effective_role
    qs = Organisation.objects.select_related("commune", "epci")
    if role == R.PORTEUR:
        return qs.filter(pk=user.organisation_id)
    if role not in TREASURY_STAFF and not user.is_superuser:
        return qs.none()
    qs = in_territory(qs, user)
    if role == R.EPCI_PARTNER and not user.is_superuser:
        qs = qs.filter(epci_id=user.epci_id) if user.epci_id else qs.none()
    return qs


#: Who reads the envelopes (issue 14): the territory's staff and the funders' instructors.
ENVELOPE_STAFF = (R.AGENT, R.DIRECTOR, R.EPCI_PARTNER, R.ADMIN)


def envelope_list(*, user) -> QuerySet:
    """The envelopes the user may read: its territory's (staff), its funder's schemes (a
    funder's instructor, every territory); none for the others."""
    from schemes.models import Envelope

    qs = Envelope.objects.select_related("scheme", "territory", "action_sheet")
    role = user.effective_role
    if role == R.FUNDER_INSTRUCTOR:
        return qs.filter(scheme__funder_id=user.funder_id)
    if role in ENVELOPE_STAFF or user.is_superuser:
        return in_territory(qs, user)
    return qs.none()


def commune_list(*, user) -> QuerySet:
    """Communes a staff user may attach to an organisation: those of its territory."""
    from schemes.models import Commune

    qs = Commune.objects.select_related("epci")
    if user.effective_role in (R.PORTEUR, R.FUNDER_INSTRUCTOR):
        return qs
    return in_territory(qs, user, field="epci__territory_id")


def epci_list(*, user) -> QuerySet:
    from schemes.models import EPCI

    return in_territory(EPCI.objects.all(), user)


def deadline_list(*, user) -> QuerySet[Deadline]:
    case_ids = case_list(user=user).values("pk")
    return Deadline.objects.filter(aggregate_id__in=case_ids).select_related("subject_type")


def account_list(*, user) -> QuerySet[User]:
    """Accounts an administrator manages: a superuser, all; a territory's administrator,
    its staff and the porteurs of its organisations."""
    qs = User.objects.all()
    if user.is_superuser:
        return qs
    if user.territory_id is None:
        return qs.none()
    return qs.filter(
        Q(territory_id=user.territory_id) | Q(organisation__territory_id=user.territory_id)
    )


def access_log_list(*, user):
    """The access log of the dossiers the user may see (a superuser: all of it)."""
    from engine.models import AccessLog

    qs = AccessLog.objects.select_related("subject_type")
    if user.is_superuser:
        return qs
    return qs.filter(aggregate_id__in=case_list(user=user).values("pk"))


NOTE_READERS = roles_for("notes_read")
SESSION_READERS = roles_for("session_read")


def session_readable(user) -> bool:
    """LEADER committee sessions are for its members and the PETR's staff (each sees its
    own territory's sessions: ``session_list``)."""
    return user.effective_role in SESSION_READERS


def session_list(*, user):
    from .models import CommitteeSession

    if not session_readable(user):
        return CommitteeSession.objects.none()
    return in_territory(CommitteeSession.objects.select_related("scheme"), user)


def session_detail_list(*, user):
    """``session_list`` with what a session's page or body shows, in bounded queries:
    members, agenda (with dossiers and schemes), votes (with members), decisions. One
    definition for the API and the committee pages."""
    from django.db.models import Prefetch

    from .models import CommitteeDecision, InterestDeclaration, User, Vote

    agenda = FundingRequest.objects.select_related("case", "case__organisation", "scheme")
    return session_list(user=user).prefetch_related(
        Prefetch(
            "members",
            queryset=User.objects.order_by("college", "interest_group", "last_name", "username"),
        ),
        Prefetch("agenda", queryset=agenda.order_by("id")),
        Prefetch(
            "votes",
            queryset=Vote.objects.select_related("member", "on_behalf_of").order_by(
                "member__last_name", "member__username"
            ),
        ),
        Prefetch("decisions", queryset=CommitteeDecision.objects.order_by("id")),
        Prefetch(
            "declarations",
            queryset=InterestDeclaration.objects.select_related("member").order_by("id"),
        ),
    )


def awaiting_committee(*, user) -> QuerySet[FundingRequest]:
    """Requests of the user's territory waiting for its LEADER committee."""
    if not session_readable(user):
        return FundingRequest.objects.none()
    return in_territory(
        FundingRequest.objects.filter(state="awaiting_committee", scheme__committee=True),
        user,
        field="case__territory_id",
    )


def message_list(*, user, case: Case):
    """The dossier's messages this user may read: porteurs and funders never see the
    PETR's internal notes."""
    from .models import Message

    qs = (
        Message.objects.filter(case=case)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    if user.effective_role not in NOTE_READERS:
        qs = qs.filter(internal=False)
    return qs


def attachment_get(*, user, pk: int):
    """A message's attachment, if its message is one this user may read (its dossier
    visible, an internal note only to who reads notes); None otherwise."""
    from .models import MessageAttachment

    attachment = MessageAttachment.objects.select_related("message").filter(pk=pk).first()
    if attachment is None:
        return None
    case = case_list(user=user).filter(pk=attachment.message.case_id).first()
    if (
        case is None
        or not message_list(user=user, case=case).filter(pk=attachment.message_id).exists()
    ):
        return None
    return attachment


def correction_list(*, user, case: Case, open_only: bool = False):
    """The dossier's correction requests (the case is already one the user may see)."""
    from .models import CorrectionRequest, CorrectionState

    qs = CorrectionRequest.objects.filter(case=case).select_related("requested_by", "closed_by")
    if open_only:
        qs = qs.filter(state=CorrectionState.OPEN)
    return qs.order_by("created_at", "id")


def case_deadlines(case: Case) -> QuerySet[Deadline]:
    return (
        Deadline.objects.filter(aggregate_id=case.pk)
        .select_related("subject_type")
        .order_by("due_on", "id")
    )


def case_history(case: Case, known: dict | None = None):
    """State logs of the dossier, its requests, their claims, extensions and recovery
    orders, oldest first. ``known``: model → the dossier's rows of that model the caller
    already read (all of them), so their ids are not read again."""
    from django_fsm_log.models import StateLog

    from .models import Extension, RecoveryOrder

    known = known or {}
    if FundingRequest in known:
        fr_ids = [fr.pk for fr in known[FundingRequest]]
    else:
        fr_ids = list(case.funding_requests.values_list("pk", flat=True))

    def ids(model) -> list[int]:
        if model in known:
            return [row.pk for row in known[model]]
        return list(
            model.objects.filter(funding_request_id__in=fr_ids).values_list("pk", flat=True)
        )

    types = ContentType.objects.get_for_models(
        Case, FundingRequest, PaymentClaim, Extension, RecoveryOrder
    )
    return (
        StateLog.objects.filter(
            Q(content_type=types[Case], object_id=case.pk)
            | Q(content_type=types[FundingRequest], object_id__in=fr_ids)
            | Q(content_type=types[PaymentClaim], object_id__in=ids(PaymentClaim))
            | Q(content_type=types[Extension], object_id__in=ids(Extension))
            | Q(content_type=types[RecoveryOrder], object_id__in=ids(RecoveryOrder))
        )
        .select_related("by", "content_type")
        .order_by("id")  # the order things were recorded in; ``timestamp`` is the event's time
    )
