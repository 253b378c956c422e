"""Writes on dossiers and their parts. State changes go through ``engine.transitions``."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from engine import inputs
from engine.errors import DomainError
from engine.outbox import event_emit
from engine.transitions import transition_apply
from schemes.models import Commune, Scheme, Territory

from . import rules, selectors
from .models import (
    CASE_EDITABLE,
    PLAN_FREE_STATES,
    TERRITORIAL_ROLES,
    Case,
    CaseState,
    ClaimState,
    Document,
    ExpenseLine,
    FundingRequest,
    Opinion,
    Organisation,
    PaymentClaim,
    RequestState,
    ResourceLine,
    User,
)
from .permissions import require
from .siren import siren_valid
from .uploads import safe_filename, sniff

R = User.Role
MAX_LINES = 100


# ---------------------------------------------------------------- helpers


def _money(value, where: str) -> Decimal:
    """A plan line's amount (``engine.inputs``): zero allowed in a draft, never negative."""
    try:
        return inputs.parse_money(value, field="amount", label="montant", allow_zero=True)
    except DomainError as exc:
        message = f"{where} : {exc.message[:1].lower()}{exc.message[1:]}"
        raise DomainError(message, errors={"financing_plan": [message]}) from None


def _text(value, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    return inputs.parse_text(
        value, field=field, label=label, max_length=max_length, required=required
    )


def _parse_plan(plan) -> tuple[list[dict], list[dict]]:
    if not isinstance(plan, dict):
        raise DomainError(
            "Le plan de financement est un objet {expenses, resources}.",
            errors={"financing_plan": ["Objet attendu."]},
        )
    expenses_in = plan.get("expenses") or []
    resources_in = plan.get("resources") or []
    if not isinstance(expenses_in, list) or not isinstance(resources_in, list):
        raise DomainError(
            "Dépenses et ressources sont des listes.",
            errors={"financing_plan": ["Listes attendues."]},
        )
    if len(expenses_in) > MAX_LINES or len(resources_in) > MAX_LINES:
        raise DomainError(
            f"{MAX_LINES} lignes au plus par tableau.",
            errors={"financing_plan": ["Trop de lignes."]},
        )
    schemes = {s.code: s for s in Scheme.objects.filter(active=True)}
    expenses, resources = [], []
    for i, row in enumerate(expenses_in, 1):
        where = f"Dépense n° {i}"
        if not isinstance(row, dict):
            raise DomainError(f"{where} : objet attendu.", errors={"financing_plan": [where]})
        tax = row.get("tax", "HT")
        if tax not in ("HT", "TTC"):
            raise DomainError(
                f"{where} : « tax » vaut HT ou TTC.",
                errors={"financing_plan": [f"{where} : HT ou TTC."]},
            )
        eligible = row.get("eligible", True)
        if not isinstance(eligible, bool):
            raise DomainError(
                f"{where} : « eligible » est vrai ou faux.",
                errors={"financing_plan": [f"{where} : booléen attendu."]},
            )
        expenses.append(
            {
                "label": _text(
                    row.get("label"),
                    field="financing_plan",
                    label=f"le libellé ({where})",
                    max_length=200,
                    required=True,
                ),
                "amount": _money(row.get("amount"), where),
                "tax": tax,
                "eligible": eligible,
            }
        )
    for i, row in enumerate(resources_in, 1):
        where = f"Ressource n° {i}"
        if not isinstance(row, dict):
            raise DomainError(f"{where} : objet attendu.", errors={"financing_plan": [where]})
        kind = row.get("kind")
        if kind not in ResourceLine.Kind.values:
            raise DomainError(
                f"{where} : « kind » vaut scheme, self, other_public ou other.",
                errors={"financing_plan": [f"{where} : type inconnu."]},
            )
        scheme = None
        if kind == "scheme":
            scheme = schemes.get(str(row.get("scheme") or ""))
            if scheme is None:
                raise DomainError(
                    f"{where} : dispositif inconnu « {str(row.get('scheme'))[:40]} ».",
                    errors={"financing_plan": [f"{where} : dispositif inconnu."]},
                )
        resources.append(
            {
                "kind": kind,
                "scheme": scheme,
                "amount": _money(row.get("amount"), where),
                "label": _text(
                    row.get("label"),
                    field="financing_plan",
                    label=f"le libellé ({where})",
                    max_length=200,
                ),
            }
        )
    for lines, what in ((expenses, "des dépenses"), (resources, "des ressources")):
        if sum((line["amount"] for line in lines), Decimal(0)) > inputs.MONEY_MAX:
            message = f"Le total {what} est invraisemblable (moins de 1 000 milliards d'euros)."
            raise DomainError(message, errors={"financing_plan": [message]})
    return expenses, resources


def plan_check(case: Case) -> rules.PlanSummary:
    """The plan's summary, or a DomainError listing every rule it breaks (in French)."""
    summary = plan_summary(case)
    if summary.violations:
        raise DomainError(
            "Plan de financement non conforme : " + " ".join(rules.plan_messages(summary)),
            code="guard",
            errors={"financing_plan": rules.plan_messages(summary)},
        )
    return summary


def _replace_plan(case: Case, plan) -> None:
    expenses, resources = _parse_plan(plan)
    case.expenses.all().delete()
    case.resources.all().delete()
    ExpenseLine.objects.bulk_create(
        ExpenseLine(case=case, position=i, **e) for i, e in enumerate(expenses)
    )
    ResourceLine.objects.bulk_create(
        ResourceLine(case=case, position=i, **r) for i, r in enumerate(resources)
    )
    if case.state not in PLAN_FREE_STATES:
        # The rules bind from submit on: a plan changed afterwards stays valid, and the
        # requests follow their lines (no scheme may be added or dropped after submit).
        plan_check(case)
        requested = {fr.scheme_id: fr for fr in case.funding_requests.all()}
        lines = {r["scheme"].pk: r for r in resources if r["scheme"] is not None}
        if set(requested) != set(lines):
            raise DomainError(
                "Après le dépôt, les dispositifs sollicités ne peuvent plus changer "
                "(retirez une demande ou déposez un nouveau dossier).",
                code="guard",
                errors={"financing_plan": ["Dispositifs modifiés après le dépôt."]},
            )
        for scheme_id, fr in requested.items():
            FundingRequest.objects.filter(pk=fr.pk).update(
                amount_requested=lines[scheme_id]["amount"]
            )


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
    from django.db.models import Count, Q

    agents = User.objects.filter(role=R.AGENT, is_active=True, territory_id=territory_id).annotate(
        load=Count(
            "referent_cases",
            filter=~Q(referent_cases__state__in=["closed", "rejected", "withdrawn", "lapsed"]),
        )
    )
    same = agents.filter(epci_id=epci_id) if epci_id else agents.none()
    return same.order_by("load", "id").first() or agents.order_by("load", "id").first()


# ---------------------------------------------------------------- dossiers


def case_create(*, actor, data: dict) -> Case:
    role = actor.effective_role
    require(actor, "case_create")
    org_id = data.get("organisation")
    if role == R.PORTEUR:
        if org_id not in (None, actor.organisation_id):
            raise DomainError(
                "Vous ne pouvez déposer que pour votre organisation.", code="forbidden"
            )
        org_id = actor.organisation_id
    try:
        organisation = selectors.organisation_list(user=actor).get(pk=inputs.read_id(org_id))
    except Organisation.DoesNotExist:
        raise DomainError(
            "Organisation inconnue.", errors={"organisation": ["Organisation inconnue."]}
        ) from None
    initial = data.get("state") or CaseState.IDEA
    if initial not in (CaseState.IDEA, CaseState.DRAFT):
        raise DomainError(
            "Un dossier commence à l'état « idea » ou « draft ».",
            errors={"state": ["idea ou draft."]},
        )
    title = _text(data.get("title"), field="title", label="le titre", max_length=300, required=True)
    communes = _communes(data.get("communes"), organisation.territory_id)
    with transaction.atomic():
        case = Case(
            title=title,
            description=_text(
                data.get("description"),
                field="description",
                label="la description",
                max_length=20000,
            ),
            theme=_text(data.get("theme"), field="theme", label="le thème", max_length=120),
            organisation=organisation,
            epci_id=organisation.epci_id or (communes[0].epci_id if communes else None),
            created_by=actor,
        )
        case.territory_id = case.resolve_territory_id()
        case.referent_agent = (
            actor if role == R.AGENT else _pick_referent(case.epci_id, case.territory_id)
        )
        case.save()
        case.reference = Territory.format_reference(
            Territory.prefix_of(case.territory_id), case.created_at.year, case.pk
        )
        Case.objects.filter(pk=case.pk).update(reference=case.reference)
        if not communes and organisation.commune_id:
            communes = [organisation.commune]
        case.communes.set(communes)
        if data.get("financing_plan") is not None:
            _replace_plan(case, data["financing_plan"])
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
        for key, label, max_length in (
            ("title", "le titre", 300),
            ("description", "la description", 20000),
            ("theme", "le thème", 120),
        ):
            if key in data:
                setattr(
                    case,
                    key,
                    _text(
                        data[key],
                        field=key,
                        label=label,
                        max_length=max_length,
                        required=key == "title",
                    ),
                )
                fields.append(key)
        if fields:
            case.save(update_fields=[*fields, "updated_at"])
        if "communes" in data:
            case.communes.set(_communes(data["communes"], case.territory_id))
        if data.get("financing_plan") is not None:
            _replace_plan(case, data["financing_plan"])
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


def case_record_share_exception(*, actor, case: Case, reason: str) -> Case:
    require(actor, "share_exception")
    reason = _text(
        reason,
        field="reason",
        label="le motif légal de la dérogation",
        max_length=2000,
        required=True,
    )
    Case.objects.filter(pk=case.pk).update(
        own_share_exception=True, own_share_exception_reason=reason
    )
    case.own_share_exception, case.own_share_exception_reason = True, reason
    event_emit(
        topic="case.share_exception",
        subject=case,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"reason": reason},
    )
    return case


def plan_summary(case: Case) -> rules.PlanSummary:
    prefetched = getattr(case, "_prefetched_objects_cache", {})
    lines = (
        case.resources.all()
        if "resources" in prefetched
        else (case.resources.select_related("scheme"))
    )
    expenses, resources = rules.lines_from_rows(case.expenses.all(), lines)
    return rules.check_plan(
        expenses,
        resources,
        public_owner=case.organisation.is_public,
        own_share_exception=case.own_share_exception,
    )


# ---------------------------------------------------------------- documents


def document_upload(*, actor, case: Case, kind: str, upload, label: str = "") -> Document:
    require(actor, "document_upload")
    if case.is_terminal:
        raise DomainError("Le dossier est clos.", code="unavailable")
    kind = _text(kind, field="kind", label="le type de pièce", max_length=40, required=True)
    known = {"other"}
    for scheme in Scheme.objects.all():
        known.update(scheme.required_document_codes())
    if kind not in known:
        raise DomainError(f"Type de pièce inconnu : « {kind} ».", errors={"kind": ["Inconnu."]})
    if upload is None:
        raise DomainError("Joignez un fichier.", errors={"file": ["Fichier manquant."]})
    limit = settings.GUICHET_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise DomainError(
            f"Fichier trop volumineux ({upload.size // 1024} Ko) : {limit // (1024 * 1024)} Mo "
            "au plus.",
            errors={"file": ["Fichier trop volumineux."]},
        )
    if upload.size == 0:
        raise DomainError("Le fichier est vide.", errors={"file": ["Fichier vide."]})
    data = upload.read()
    found = sniff(data[:16], data)
    if found is None:
        raise DomainError(
            "Format refusé : seuls les PDF, images (PNG, JPEG) et documents bureautiques "
            "(Word, Excel, OpenDocument) sont acceptés, d'après leur contenu réel.",
            errors={"file": ["Format non accepté."]},
        )
    ctype, ext = found
    filename = safe_filename(getattr(upload, "name", "") or "document", ext)
    doc = Document(
        case=case,
        kind=kind,
        filename=filename,
        size=len(data),
        content_type=ctype,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        label=_text(label, field="label", label="le libellé", max_length=200),
    )
    doc.file.save(filename, ContentFile(data), save=False)
    doc.save()
    event_emit(
        topic="document.uploaded",
        subject=doc,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"kind": kind},
    )
    return doc


# ---------------------------------------------------------------- payment claims


def claim_create(*, actor, funding_request: FundingRequest, data: dict) -> PaymentClaim:
    require(actor, "claim_create")
    if actor.effective_role == R.PORTEUR and (
        funding_request.case.organisation_id != actor.organisation_id
    ):
        raise DomainError("Demande de financement introuvable.", code="not_found")
    kind = inputs.parse_choice(
        data.get("kind"), field="kind", label="le type de demande", choices=PaymentClaim.Kind.values
    )
    amount = inputs.parse_money(data.get("amount"), field="amount", label="montant demandé")
    filed_on = inputs.parse_date(
        data.get("filed_on"), field="filed_on", label="date de dépôt", not_future=True
    )
    if funding_request.state not in (RequestState.COMMITTED, RequestState.PAYING):
        raise DomainError(
            "L'aide doit être engagée avant toute demande de paiement.", code="unavailable"
        )
    claim = PaymentClaim.objects.create(
        funding_request=funding_request,
        kind=kind,
        amount=amount,
        filed_on=filed_on,
        created_by=actor,
    )
    event_emit(
        topic="paymentclaim.created",
        subject=claim,
        aggregate_id=funding_request.case_id,
        actor_id=actor.pk,
    )
    return claim


def claims_unpaid():
    return PaymentClaim.objects.filter(
        state__in=[ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED]
    )


# ---------------------------------------------------------------- organisations and users


def organisation_create(*, actor, data: dict) -> Organisation:
    require(actor, "organisation_create")
    kind = data.get("kind")
    if kind not in Organisation.Kind.values:
        raise DomainError(
            "« kind » : commune, epci, association, company ou public_body.",
            errors={"kind": ["Valeur invalide."]},
        )
    siren = str(data.get("siren") or "").replace(" ", "") or None
    if siren is not None and not siren_valid(siren):
        raise DomainError(
            "SIREN invalide : 9 chiffres et une clé de contrôle (Luhn) correcte.",
            errors={"siren": ["SIREN invalide."]},
        )
    if siren and Organisation.objects.filter(siren=siren).exists():
        raise DomainError("Une organisation porte déjà ce SIREN.", errors={"siren": ["Doublon."]})
    commune = None
    if data.get("commune"):
        commune = selectors.commune_list(user=actor).filter(insee=str(data["commune"])).first()
        if commune is None:
            raise DomainError(
                "Commune inconnue sur le territoire.", errors={"commune": ["Code INSEE inconnu."]}
            )
    name = _text(data.get("name"), field="name", label="le nom", max_length=200, required=True)
    territory_id = (
        commune.epci.territory_id if commune else actor.territory_id or Territory.sole_id()
    )
    if territory_id is None:
        raise DomainError(
            "Indiquez la commune de l'organisation : elle situe son territoire.",
            errors={"commune": ["Obligatoire."]},
        )
    return Organisation.objects.create(
        name=name, kind=kind, siren=siren, commune=commune, territory_id=territory_id
    )


def _account_territory(actor, slug, epci) -> int:
    """The territory of a new staff account: the administrator's own; a superuser names
    it (``territory``: its slug), or it follows the account's EPCI, or the installation's
    only territory."""
    wanted = None
    if slug not in (None, ""):
        wanted = Territory.objects.filter(slug=str(slug)[:60]).first()
        if wanted is None:
            raise DomainError("Territoire inconnu.", errors={"territory": ["Territoire inconnu."]})
    if not actor.is_superuser:
        if wanted is not None and wanted.pk != actor.territory_id:
            raise DomainError(
                "Vous ne créez des comptes que pour votre territoire.",
                errors={"territory": ["Hors de votre territoire."]},
            )
        return actor.territory_id
    if epci is not None:
        if wanted is not None and wanted.pk != epci.territory_id:
            raise DomainError(
                "Cet EPCI n'appartient pas au territoire indiqué.",
                errors={"territory": ["Ne correspond pas à l'EPCI."]},
            )
        return epci.territory_id
    territory_id = wanted.pk if wanted is not None else Territory.sole_id()
    if territory_id is None:
        raise DomainError(
            "Indiquez le territoire du compte (plusieurs territoires sur cette installation).",
            errors={"territory": ["Obligatoire pour un compte du PETR."]},
        )
    return territory_id


def user_create(*, actor, data: dict) -> User:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from schemes.models import Funder

    require(actor, "user_create")
    username = _text(
        data.get("username"), field="username", label="l'identifiant", max_length=150, required=True
    )
    if User.objects.filter(username=username).exists():
        raise DomainError("Cet identifiant existe déjà.", errors={"username": ["Déjà pris."]})
    role = data.get("role")
    if role not in R.values:
        raise DomainError("Rôle inconnu.", errors={"role": ["Rôle inconnu."]})
    user = User(username=username, role=role, email=str(data.get("email") or "")[:254])
    password = str(data.get("password") or "")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(
            "Mot de passe refusé : " + " ".join(exc.messages), errors={"password": exc.messages}
        ) from None
    if role == R.PORTEUR:
        user.organisation = (
            selectors.organisation_list(user=actor)
            .filter(pk=inputs.read_id(data.get("organisation")))
            .first()
        )
        if user.organisation is None:
            raise DomainError(
                "Un porteur est rattaché à une organisation existante.",
                errors={"organisation": ["Obligatoire pour un porteur."]},
            )
    if role == R.EPCI_PARTNER or data.get("epci"):
        user.epci = (
            selectors.epci_list(user=actor).filter(siren=str(data.get("epci") or "")).first()
        )
        if user.epci is None and role == R.EPCI_PARTNER:
            raise DomainError(
                "Un partenaire EPCI est rattaché à un EPCI (SIREN).",
                errors={"epci": ["Obligatoire pour un partenaire EPCI."]},
            )
    if role in TERRITORIAL_ROLES:
        user.territory_id = _account_territory(actor, data.get("territory"), user.epci)
    if role == R.FUNDER_INSTRUCTOR:
        scheme = Scheme.objects.filter(code=str(data.get("funder") or "")).first()
        funder = (
            scheme.funder
            if scheme
            else Funder.objects.filter(code=str(data.get("funder") or "")).first()
        )
        if funder is None:
            raise DomainError(
                "Un instructeur est rattaché à un financeur (code d'un dispositif).",
                errors={"funder": ["Obligatoire pour un instructeur."]},
            )
        user.funder = funder
    if role == R.COMMITTEE_MEMBER:
        college = data.get("college")
        if college not in User.College.values:
            raise DomainError(
                "Un membre du comité appartient au collège public ou privé.",
                errors={"college": ["public ou private."]},
            )
        user.college = college
        group = _text(
            data.get("interest_group"),
            field="interest_group",
            label="le groupe d'intérêt",
            max_length=80,
        )
        if college == User.College.PRIVATE and not group:
            raise DomainError(
                "Un membre du collège privé nomme son groupe d'intérêt.",
                errors={"interest_group": ["Obligatoire pour le collège privé."]},
            )
        user.interest_group = group
    user.set_password(password)
    user.save()
    return user


def opinion_create(*, actor, case: Case, kind: str, value: str, text: str = "") -> Opinion:
    require(actor, "opinion_create")
    if kind not in Opinion.Kind.values or value not in Opinion.Value.values:
        raise DomainError("Type ou valeur d'avis inconnu.", errors={"kind": ["Inconnu."]})
    allowed_kinds = rules.opinion_kinds(actor.effective_role, case.state)
    if kind not in allowed_kinds:
        labels = ", ".join(str(Opinion.Kind(k).label) for k in allowed_kinds) or "aucun"
        raise DomainError(
            f"Votre rôle ne permet pas de donner l'avis « {Opinion.Kind(kind).label} » sur ce "
            f"dossier (avis possibles : {labels}).",
            code="forbidden",
            errors={"kind": ["Type d'avis non permis."]},
        )
    opinion = Opinion.objects.create(
        case=case,
        kind=kind,
        value=value,
        author=actor,
        text=_text(text, field="text", label="l'avis", max_length=10000),
    )
    event_emit(
        topic="opinion.created",
        subject=opinion,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"kind": kind, "value": value},
    )
    return opinion


def message_post(*, actor, case: Case, body: str, internal: bool = False):
    """A message on a dossier. Porteurs write to the PETR; agents (and EPCI partners, for
    their opinions) may write internal notes that porteurs never see."""
    from .models import Message

    role = actor.effective_role
    require(actor, "message_post")
    if role == R.PORTEUR and internal:
        raise DomainError("Un porteur n'écrit pas de note interne.", code="forbidden")
    if role == R.EPCI_PARTNER and not internal:
        raise DomainError("Les partenaires EPCI écrivent des notes internes.", code="forbidden")
    body = _text(body, field="body", label="le message", max_length=10000, required=True)
    message = Message.objects.create(case=case, author=actor, body=body, internal=internal)
    event_emit(
        topic="message.internal" if internal else "message.posted",
        subject=message,
        aggregate_id=case.pk,
        actor_id=actor.pk,
        payload={"internal": internal},
    )
    return message
