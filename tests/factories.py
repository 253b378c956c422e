"""factory-boy factories shared by the tests: they pick the attributes (sequences,
defaults), the shared builders of ``cases.builders`` (the demo's too) make the rows."""

from __future__ import annotations

import factory

from cases import builders
from cases.models import TERRITORIAL_ROLES, Organisation, User
from cases.siren import luhn_valid
from schemes.models import Commune, Funder, Scheme, Territory

PASSWORD = "motdepasse-solide-42"


def make_siren(seed: int) -> str:
    base = f"{2_0000_0000 + seed:08d}"[-8:]
    for key in range(10):
        if luhn_valid(base + str(key)):
            return base + str(key)
    raise AssertionError("unreachable")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Commune test {n}")
    kind = Organisation.Kind.COMMUNE
    siren = factory.Sequence(lambda n: make_siren(n + 1000))
    commune = factory.LazyFunction(lambda: Commune.objects.order_by("insee").first())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return builders.organisation_build(**kwargs)


def _staff_territory(u):
    if u.role not in TERRITORIAL_ROLES or getattr(u, "is_superuser", False):
        return None
    epci = getattr(u, "epci", None)
    if epci is not None:
        return epci.territory
    return Territory.objects.order_by("id").first()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = User.Role.AGENT
    # Staff work for a territory: their EPCI's, else the first (default) one.
    territory = factory.LazyAttribute(lambda u: _staff_territory(u))
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return builders.user_build(**kwargs)


def porteur(organisation=None, **kw) -> User:
    return UserFactory(
        role=User.Role.PORTEUR, organisation=organisation or OrganisationFactory(), **kw
    )


def agent(**kw) -> User:
    return UserFactory(role=User.Role.AGENT, **kw)


def funder_instructor(funder_code: str, **kw) -> User:
    return UserFactory(
        role=User.Role.FUNDER_INSTRUCTOR, funder=Funder.objects.get(code=funder_code), **kw
    )


def committee_member(college="public", interest_group="", **kw) -> User:
    return UserFactory(
        role=User.Role.COMMITTEE_MEMBER, college=college, interest_group=interest_group, **kw
    )


def scheme(code: str) -> Scheme:
    return Scheme.objects.get(code=code)
