"""Accounts of the people who log in with ProConnect (OpenID Connect, docs/adr/012).

ProConnect tells who the person is (``email``, ``given_name``, ``usual_name``) and for
which establishment they work (``siret``). Guichet decides what they may do: the claims
never give a role, a funder or a territory.

- An existing account is found by its e-mail (case ignored). When the account belongs to
  a body whose SIREN Guichet knows (the porteur's organisation, the instructor's funder,
  the EPCI partner's EPCI, the agent's PETR), the SIRET's first nine digits must be that
  SIREN: the same address at another employer is not the same account.
- Without an account, the first login creates a porteur's account, attached to the
  organisation whose SIREN is the SIRET's: only when the SIRET is valid (Luhn) and the
  organisation is already known to Guichet, its SIREN checked when it was recorded
  (``organisation_create``, or the intake through the company register). Anyone else is
  refused with a French message that says what to do.
"""

from __future__ import annotations

from django.db import transaction

from engine.errors import DomainError

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


def proconnect_account(*, claims: dict) -> User:
    """The account of the person ProConnect vouches for (found, or created on a first
    login); ``DomainError`` (``forbidden``) with the French reason otherwise."""
    email = _text(claims.get("email"), EMAIL_MAX + 1)
    if not email or "@" not in email or len(email) > EMAIL_MAX:
        raise DomainError(NO_EMAIL, code="forbidden")
    siret = _siret(claims)
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
            raise DomainError(UNKNOWN_ORGANISATION.format(siren=siret[:9]), code="forbidden")
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
