"""Writes on a dossier itself: creation, edition (the own-share exception: ``plan``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from engine import inputs
from engine.errors import DomainError
from engine.outbox import event_emit
from engine.transitions import transition_apply
from schemes.models import Commune, Territory

from .. import selectors
from ..calls import call_resolve
from ..models import CASE_EDITABLE, Case, CaseState, Organisation, User
from ..permissions import require
from .common import R, clean_text
from .corrections import corrections_resolve
from .plan import plan_replace
from .themes import theme_resolve


def _communes(codes, territory_id: int | None = None) -> list[Commune]:
    """The communes of a dossier, by INSEE code, within its territory."""
    if codes is None:
        return []
    if not isinstance(codes, list) or len(codes) > 100:
        raise DomainError(
            "« communes » est une liste de codes INSEE.",
            errors={"communes": ["Liste de codes INSEE attendue."]},
        )
    codes = [str(c) for c in codes]
    communes = Commune.objects.filter(insee__in=codes)
    if territory_id is not None:
        communes = communes.filter(epci__territory_id=territory_id)
    found = list(communes)
    unknown = sorted(set(codes) - {c.insee for c in found})
    if unknown:
        raise DomainError(
            "Communes hors du territoire ou inconnues : " + ", ".join(u[:10] for u in unknown[:5]),
            errors={"communes": ["Code INSEE inconnu."]},
        )
    return found


def _pick_referent(epci_id, territory_id) -> User | None:
    """The agent of the territory with the fewest live dossiers (same EPCI first)."""
    agents = User.objects.filter(role=R.AGENT, is_active=True, territory_id=territory_id).annotate(
        load=Count(
            "referent_cases",
            filter=~Q(referent_cases__state__in=["closed", "rejected", "withdrawn", "lapsed"]),
        )
    )
    same = agents.filter(epci_id=epci_id) if epci_id else agents.none()
    return same.order_by("load", "id").first() or agents.order_by("load", "id").first()


def _creation_organisation(actor, org_id) -> Organisation:
    """The organisation a new dossier is filed for: a porteur's own, else one the actor sees."""
    if actor.effective_role == R.PORTEUR:
        if org_id not in (None, actor.organisation_id):
            raise DomainError(
                "Vous ne pouvez déposer que pour votre organisation.", code="forbidden"
            )
        org_id = actor.organisation_id
    try:
        return selectors.organisation_list(user=actor).get(pk=inputs.read_id(org_id))
    except Organisation.DoesNotExist:
        raise DomainError(
            "Organisation inconnue.", errors={"organisation": ["Organisation inconnue."]}
        ) from None


def _initial_state(state) -> str:
    """A dossier starts as an idea or, filed directly, as a draft."""
    initial = state or CaseState.IDEA
    if initial not in (CaseState.IDEA, CaseState.DRAFT):
        raise DomainError(
            "Un dossier commence à l'état « idea » ou « draft ».",
            errors={"state": ["idea ou draft."]},
        )
    return initial


def _case_insert(*, actor, organisation, communes, title: str, data: dict) -> Case:
    """The new dossier's row: its territory, its referent agent, then its reference."""
    case = Case(
        title=title,
        description=clean_text(
            data.get("description"),
            field="description",
            label="la description",
            max_length=20000,
        ),
        organisation=organisation,
        epci_id=organisation.epci_id or (communes[0].epci_id if communes else None),
        created_by=actor,
    )
    case.theme_ref = theme_resolve(data.get("theme"))
    case.theme = case.theme_ref.label if case.theme_ref else ""
    case.territory_id = case.resolve_territory_id()
    case.call = call_resolve(data.get("call"), territory_id=case.territory_id)
    case.referent_agent = (
        actor
        if actor.effective_role == R.AGENT
        else _pick_referent(case.epci_id, case.territory_id)
    )
    case.save()
    case.reference = Territory.format_reference(
        Territory.prefix_of(case.territory_id), case.created_at.year, case.pk
    )
    Case.objects.filter(pk=case.pk).update(reference=case.reference)
    return case


def case_create(*, actor, data: dict) -> Case:
    require(actor, "case_create")
    organisation = _creation_organisation(actor, data.get("organisation"))
    initial = _initial_state(data.get("state"))
    title = clean_text(
        data.get("title"), field="title", label="le titre", max_length=300, required=True
    )
    communes = _communes(data.get("communes"), organisation.territory_id)
    with transaction.atomic():
        case = _case_insert(
            actor=actor, organisation=organisation, communes=communes, title=title, data=data
        )
        if not communes and organisation.commune_id:
            communes = [organisation.commune]
        case.communes.set(communes)
        if data.get("financing_plan") is not None:
            plan_replace(case, data["financing_plan"])
        event_emit(topic="case.created", subject=case, aggregate_id=case.pk, actor_id=actor.pk)
        if initial == CaseState.DRAFT:
            transition_apply(
                instance=case,
                name="open_application",
                actor=actor,
                comment="Création directe de la demande.",
            )
    return case


def case_update(*, actor, case: Case, data: dict) -> Case:
    # long: each editable field of the dossier checked in the one transaction that holds its lock
    require(actor, "case_update")
    if case.state not in CASE_EDITABLE:
        raise DomainError(
            f"Le dossier ne peut plus être modifié dans l'état « {case.get_state_display()} ».",
            code="unavailable",
        )
    with transaction.atomic():
        # Lock the row: a concurrent transition waits, and we re-read the state it left.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != case.state:
            raise DomainError("Le dossier a changé entre-temps : rechargez-le.", code="conflict")
        fields = []
        before = {k: getattr(case, k) for k in ("title", "description", "theme", "call")}
        for key, label, max_length in (
            ("title", "le titre", 300),
            ("description", "la description", 20000),
        ):
            if key in data:
                setattr(
                    case,
                    key,
                    clean_text(
                        data[key],
                        field=key,
                        label=label,
                        max_length=max_length,
                        required=key == "title",
                    ),
                )
                fields.append(key)
        if "theme" in data:
            case.theme_ref = theme_resolve(data["theme"], current=case.theme_ref)
            case.theme = case.theme_ref.label if case.theme_ref else ""
            fields.append("theme")
        if "call" in data:
            case.call = call_resolve(
                data["call"],
                territory_id=case.territory_id,
                current=case.call,
                deposited=case.receipt_date is not None,
            )
            fields.append("call")
        if fields:
            linked = ["theme_ref"] if "theme" in fields else []
            case.save(update_fields=[*fields, *linked, "updated_at"])
        changed = [k for k in fields if getattr(case, k) != before[k]]
        if "communes" in data:
            communes = _communes(data["communes"], case.territory_id)
            if {c.pk for c in communes} != set(case.communes.values_list("pk", flat=True)):
                changed.append("communes")
            case.communes.set(communes)
        if data.get("financing_plan") is not None:
            plan_replace(case, data["financing_plan"])
            changed.append("financing_plan")
        corrections_resolve(actor=actor, case=case, kind="field", targets=changed)
        event_emit(
            topic="case.updated",
            subject=case,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={
                "fields": sorted(k for k in data if k != "financing_plan")
                + (["financing_plan"] if "financing_plan" in data else [])
            },
        )
    return case
