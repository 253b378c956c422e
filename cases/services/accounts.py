"""Organisations and user accounts."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from engine import inputs
from engine.errors import DomainError
from schemes.models import Funder, Scheme, Territory

from .. import selectors
from ..models import TERRITORIAL_ROLES, Organisation, User
from ..permissions import require
from ..siren import siren_valid
from .common import R, clean_text


def organisation_create(*, actor, data: dict) -> Organisation:
    require(actor, "organisation_create")
    kind = data.get("kind")
    if kind not in Organisation.Kind.values:
        raise DomainError(
            "« kind » : commune, epci, departement, region, association, company ou public_body.",
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
    name = clean_text(data.get("name"), field="name", label="le nom", max_length=200, required=True)
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


def _valid_password(data: dict, user: User) -> str:
    """The new account's password, accepted by Django's password validators."""
    password = str(data.get("password") or "")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(
            "Mot de passe refusé : " + " ".join(exc.messages), errors={"password": exc.messages}
        ) from None
    return password


def _porteur_organisation(actor, data: dict) -> Organisation:
    """A porteur belongs to an existing organisation the actor sees."""
    organisation = (
        selectors.organisation_list(user=actor)
        .filter(pk=inputs.read_id(data.get("organisation")))
        .first()
    )
    if organisation is None:
        raise DomainError(
            "Un porteur est rattaché à une organisation existante.",
            errors={"organisation": ["Obligatoire pour un porteur."]},
        )
    return organisation


def _account_epci(actor, data: dict, *, required: bool):
    """The EPCI named by its SIREN (an EPCI partner's is required)."""
    epci = selectors.epci_list(user=actor).filter(siren=str(data.get("epci") or "")).first()
    if epci is None and required:
        raise DomainError(
            "Un partenaire EPCI est rattaché à un EPCI (SIREN).",
            errors={"epci": ["Obligatoire pour un partenaire EPCI."]},
        )
    return epci


def _instructor_funder(data: dict) -> Funder:
    """A funder instructor's funder: named by the code of one of its schemes, or its own."""
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
    return funder


def _member_college(data: dict) -> tuple[str, str]:
    """A committee member's college and interest group (named in the private college)."""
    college = data.get("college")
    if college not in User.College.values:
        raise DomainError(
            "Un membre du comité appartient au collège public ou privé.",
            errors={"college": ["public ou private."]},
        )
    group = clean_text(
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
    return college, group


def user_create(*, actor, data: dict) -> User:
    require(actor, "user_create")
    username = clean_text(
        data.get("username"), field="username", label="l'identifiant", max_length=150, required=True
    )
    if User.objects.filter(username=username).exists():
        raise DomainError("Cet identifiant existe déjà.", errors={"username": ["Déjà pris."]})
    role = data.get("role")
    if role not in R.values:
        raise DomainError("Rôle inconnu.", errors={"role": ["Rôle inconnu."]})
    user = User(username=username, role=role, email=str(data.get("email") or "")[:254])
    password = _valid_password(data, user)
    if role == R.PORTEUR:
        user.organisation = _porteur_organisation(actor, data)
    if role == R.EPCI_PARTNER or data.get("epci"):
        user.epci = _account_epci(actor, data, required=role == R.EPCI_PARTNER)
    if role in TERRITORIAL_ROLES:
        user.territory_id = _account_territory(actor, data.get("territory"), user.epci)
    if role == R.FUNDER_INSTRUCTOR:
        user.funder = _instructor_funder(data)
    if role == R.COMMITTEE_MEMBER:
        user.college, user.interest_group = _member_college(data)
    user.set_password(password)
    user.save()
    return user
