"""The demo's accounts and organisations: every role, and the holders of the operations."""

from __future__ import annotations

from django.utils.text import slugify

from schemes.models import EPCI, Commune, Funder

from .. import builders
from ..models import Organisation, User
from ..siren import luhn_valid
from .constants import AGENTS, COMMITTEE, EMAIL_DOMAIN, EPCI_SHORT, INSTRUCTORS, PARTNERS


def commune_siren(insee: str) -> str:
    """A commune's SIREN: 21 + INSEE code + 0 + Luhn key (e.g. Carmaux 81060 → 218106003)."""
    base = f"21{insee}0"
    for key in range(10):
        if luhn_valid(base + str(key)):
            return base + str(key)
    raise AssertionError("unreachable")


class People:
    """Accounts (made once, found again by username) and organisations (by SIREN, else
    by name and kind). Mixed into ``DemoBuilder``: uses its ``report``, ``users`` and
    ``password_hash``."""

    def user(self, username: str, role: str, **fields) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = builders.user_build(
                username=username,
                role=role,
                email=f"{username}@{EMAIL_DOMAIN}",
                password_hash=self.password_hash,
                **fields,
            )
            self.report.users += 1
        self.users[username] = user
        return user

    def build_users(self) -> None:
        epcis = {e.siren: e for e in EPCI.objects.all()}
        self.user(
            "admin",
            User.Role.ADMIN,
            is_superuser=True,
            is_staff=True,
            first_name="Administrateur",
            last_name="Guichet",
        )
        self.user("direction", User.Role.DIRECTOR, first_name="Anne", last_name="Marty")
        for suffix, siren, first, last in AGENTS:
            self.user(
                f"agent.{suffix}",
                User.Role.AGENT,
                epci=epcis[siren],
                first_name=first,
                last_name=last,
            )
        for suffix, siren in PARTNERS:
            self.user(f"partenaire.{suffix}", User.Role.EPCI_PARTNER, epci=epcis[siren])
        for username, college, group, first, last in COMMITTEE:
            self.user(
                username,
                User.Role.COMMITTEE_MEMBER,
                college=college,
                interest_group=group,
                first_name=first,
                last_name=last,
            )
        funders = {f.code: f for f in Funder.objects.all()}
        for username, code, name in INSTRUCTORS:
            self.user(username, User.Role.FUNDER_INSTRUCTOR, funder=funders[code], last_name=name)

    def organisation(self, *, name, kind, siren=None, commune=None, epci=None) -> Organisation:
        lookup = {"siren": siren} if siren else {"name": name, "kind": kind}
        org = Organisation.objects.filter(**lookup).first()
        if org is None:
            org = builders.organisation_build(
                name=name, kind=kind, siren=siren, commune=commune, epci=epci
            )
            self.report.organisations += 1
        return org

    def porteur_for(self, org: Organisation, username: str) -> User:
        return self.user(username, User.Role.PORTEUR, organisation=org)

    def epci_holder(self, epci: EPCI) -> tuple[Organisation, User]:
        org = self.organisation(
            name=epci.name, kind=Organisation.Kind.EPCI, siren=epci.siren, epci=epci
        )
        return org, self.porteur_for(org, f"cc.{EPCI_SHORT[epci.siren]}")

    def commune_holder(self, commune: Commune, username: str) -> tuple[Organisation, User]:
        org = self.organisation(
            name=f"Commune de {commune.name}",
            kind=Organisation.Kind.COMMUNE,
            siren=commune_siren(commune.insee),
            commune=commune,
        )
        return org, self.porteur_for(org, username)

    def holder(self, row: dict) -> tuple[Organisation, User]:
        """The holder of one of the 2019 operations (a row of the open-data file)."""
        code = row["id_terr"]
        if row["echelon"] == "epci":
            return self.epci_holder(EPCI.objects.get(siren=code))
        commune = Commune.objects.get(insee=code)
        return self.commune_holder(commune, f"mairie.{slugify(commune.name)}")
