"""Accounts of the people who log in with ProConnect (OpenID Connect, docs/adr/012).

ProConnect tells who the person is (``email``, ``given_name``, ``usual_name``) and for
which establishment they work (``siret``). Guichet decides what they may do: the claims
never give a role, a funder or a territory.

- An existing account is found by its e-mail (case ignored). When the account belongs to
  a body whose SIREN Guichet knows (the porteur's organisation, the instructor's funder,
  the EPCI partner's EPCI, the agent's PETR), the SIRET's first nine digits must be that
  SIREN: the same address at another employer is not the same account.
- Without an account, the first login creates a porteur's account, attached to the
  organisation whose SIREN is the SIRET's, only when the SIRET is valid (Luhn). When
  Guichet does not know that organisation yet, the public company register is asked
  (``company_lookup``): a company that exists and is active (its SIRET's establishment
  too, when the answer says so), whose commune belongs to an EPCI of a Guichet territory,
  is recorded from the register's data (the intake's mapping), then its porteur. A closed
  company, an unknown number, a commune off the territories or a register that does not
  answer: refused with a French message that says what to do.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from engine.errors import DomainError

from ..company_register import FOUND, UNAVAILABLE, Company, company_lookup
from ..models import Organisation, User
from ..siren import siret_valid

EMAIL_MAX = 254
NAME_MAX = 150

NO_EMAIL = (
    "ProConnect n'a pas transmis votre adresse électronique : le guichet ne peut pas vous "
    "reconnaître. Réessayez, ou demandez au PETR de créer votre compte."
)
AMBIGUOUS = (
    "Plusieurs comptes du guichet portent cette adresse électronique : l'administrateur du "
    "guichet doit d'abord les distinguer. Contactez-le."
)
INACTIVE = "Votre compte du guichet est désactivé : contactez l'administrateur du guichet."
OTHER_ORGANISATION = (
    "L'établissement transmis par ProConnect (SIRET {siret}) n'appartient pas à "
    "l'organisation de votre compte du guichet (SIREN {siren}). Connectez-vous avec le compte "
    "ProConnect de cette organisation, ou demandez au PETR de corriger votre compte."
)
NO_SIRET = (
    "ProConnect n'a pas transmis de numéro SIRET valide pour votre établissement : le guichet "
    "ne peut pas rattacher votre compte à une organisation. Demandez au PETR de créer votre "
    "compte."
)
UNKNOWN_ORGANISATION = (
    "Votre organisation (SIREN {siren}) n'est pas encore connue du guichet : aucun compte n'a "
    "été créé. Demandez au PETR de l'enregistrer, puis connectez-vous à nouveau avec "
    "ProConnect."
)
REGISTER_SILENT = (
    "Votre organisation (SIREN {siren}) n'est pas encore connue du guichet, et le "
    "répertoire des entreprises ne peut pas la vérifier pour le moment : aucun compte n'a "
    "été créé. Demandez au PETR d'enregistrer votre organisation, puis connectez-vous à "
    "nouveau avec ProConnect."
)
REGISTER_SILENT_PASSWORD = (
    " Vous pouvez aussi lui demander de vous créer un compte avec un mot de passe, et vous "
    "connecter avec votre identifiant et ce mot de passe."
)
NOT_IN_REGISTER = (
    "Votre organisation (SIREN {siren}) n'est pas encore connue du guichet, et le "
    "répertoire des entreprises ne la connaît pas (ou elle n'y est pas diffusible) : aucun "
    "compte n'a été créé. Demandez au PETR de l'enregistrer."
)
CLOSED = (
    "Votre organisation (SIREN {siren}) est déclarée cessée dans le répertoire des "
    "entreprises : aucun compte n'a été créé. Si c'est une erreur, demandez au PETR "
    "d'enregistrer votre organisation."
)
CLOSED_ESTABLISHMENT = (
    "Votre établissement (SIRET {siret}) est déclaré fermé dans le répertoire des "
    "entreprises : aucun compte n'a été créé. Connectez-vous avec le compte ProConnect d'un "
    "établissement ouvert, ou demandez au PETR d'enregistrer votre organisation."
)
OFF_TERRITORY = "Votre organisation n'est pas sur le territoire d'un PETR servi par Guichet."


def _text(value, limit: int) -> str:
    return str(value or "").replace("\x00", "").strip()[:limit]


def _siret(claims: dict) -> str:
    """The claim's SIRET when it is one (14 ASCII digits and its key), else ""."""
    siret = str(claims.get("siret") or "").replace(" ", "")
    return siret if siret.isascii() and siret_valid(siret) else ""


def reference_siren(user: User) -> str:
    """The SIREN of the body the account belongs to, when Guichet knows it ("" otherwise):
    the organisation of a porteur, the funder of an instructor, the EPCI of a partner, the
    PETR of its staff. Committee members sit for many bodies: none."""
    if user.is_superuser:
        return ""
    role = user.role
    if role == User.Role.PORTEUR and user.organisation_id:
        return user.organisation.siren or ""
    if role == User.Role.FUNDER_INSTRUCTOR and user.funder_id:
        return (user.funder.siret or "")[:9]
    if role == User.Role.EPCI_PARTNER and user.epci_id:
        return user.epci.siren or ""
    if role in (User.Role.AGENT, User.Role.DIRECTOR, User.Role.ADMIN) and user.territory_id:
        return user.territory.siren or ""
    return ""


def _username(email: str) -> str:
    base = email[:NAME_MAX]
    if not User.objects.filter(username__iexact=base).exists():
        return base
    for n in range(2, 1000):
        suffix = f"-{n}"
        candidate = base[: NAME_MAX - len(suffix)] + suffix
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    raise DomainError(AMBIGUOUS, code="conflict")


def _existing(user: User, siret: str, claims: dict) -> User:
    if not user.is_active:
        raise DomainError(INACTIVE, code="forbidden")
    siren = reference_siren(user)
    if siren and siret[:9] != siren:
        shown = siret or str(claims.get("siret") or "non transmis")[:20]
        raise DomainError(OTHER_ORGANISATION.format(siret=shown, siren=siren), code="forbidden")
    changed = []
    for field, claim in (("first_name", "given_name"), ("last_name", "usual_name")):
        value = _text(claims.get(claim), NAME_MAX)
        if value and not getattr(user, field):
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)
    return user


def _known(email: str, siret: str) -> bool:
    """An account with this e-mail, or an organisation with the SIRET's SIREN, exists."""
    return (
        User.objects.filter(email__iexact=email).exists()
        or Organisation.objects.filter(siren=siret[:9]).exists()
    )


def registered_company(siret: str) -> Company:
    """What the company register says of the SIRET's organisation when it may have a
    porteur's account: found, active, its establishment open; ``DomainError`` otherwise."""
    siren = siret[:9]
    lookup = company_lookup(siret)
    if lookup.status == UNAVAILABLE:
        message = REGISTER_SILENT.format(siren=siren)
        if getattr(settings, "GUICHET_PASSWORD_LOGIN_ENABLED", True):
            message += REGISTER_SILENT_PASSWORD
        raise DomainError(message, code="forbidden")
    company = lookup.company
    if lookup.status != FOUND or company is None:
        raise DomainError(NOT_IN_REGISTER.format(siren=siren), code="forbidden")
    if not company.active:
        raise DomainError(CLOSED.format(siren=siren), code="forbidden")
    if not company.establishment_active:
        raise DomainError(CLOSED_ESTABLISHMENT.format(siret=siret), code="forbidden")
    return company


def _organisation_from(company: Company) -> Organisation:
    """The organisation the register describes, recorded as the intake records it (name,
    kind from the legal category, SIREN, commune): its territory is its commune's EPCI's,
    and a commune outside Guichet's EPCI is refused."""
    from schemes.models import Commune

    commune = (
        Commune.objects.select_related("epci").filter(insee=company.commune_insee).first()
        if company.commune_insee
        else None
    )
    if commune is None:
        raise DomainError(OFF_TERRITORY, code="forbidden")
    return Organisation.objects.create(
        name=company.name[:200] or f"SIREN {company.siren}",
        kind=company.kind,
        siren=company.siren,
        commune=commune,
        territory_id=commune.epci.territory_id,
    )


def proconnect_account(*, claims: dict) -> User:
    """The account of the person ProConnect vouches for (found, or created on a first
    login); ``DomainError`` (``forbidden``) with the French reason otherwise."""
    email = _text(claims.get("email"), EMAIL_MAX + 1)
    if not email or "@" not in email or len(email) > EMAIL_MAX:
        raise DomainError(NO_EMAIL, code="forbidden")
    siret = _siret(claims)
    company = None
    if siret and not _known(email, siret):
        # outside the transaction: the register may take its whole timeout
        company = registered_company(siret)
    with transaction.atomic():
        users = list(
            User.objects.select_related("organisation", "funder", "epci", "territory").filter(
                email__iexact=email
            )[:2]
        )
        if len(users) > 1:
            raise DomainError(AMBIGUOUS, code="forbidden")
        if users:
            return _existing(users[0], siret, claims)
        if not siret:
            raise DomainError(NO_SIRET, code="forbidden")
        organisation = Organisation.objects.filter(siren=siret[:9]).first()
        if organisation is None:
            if company is None:
                raise DomainError(UNKNOWN_ORGANISATION.format(siren=siret[:9]), code="forbidden")
            organisation = _organisation_from(company)
        user = User(
            username=_username(email.lower()),
            email=email,
            first_name=_text(claims.get("given_name"), NAME_MAX),
            last_name=_text(claims.get("usual_name"), NAME_MAX),
            role=User.Role.PORTEUR,
            organisation=organisation,
        )
        user.set_unusable_password()
        user.save()
        return user
