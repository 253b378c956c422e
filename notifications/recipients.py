"""Who must act: porteurs of the dossier's organisation, its referent agent, the director
of its territory."""

from __future__ import annotations

from collections import defaultdict

from cases.models import Case, User

R = User.Role


class Recipients:
    """Resolves recipients for many dossiers with a fixed number of queries."""

    def __init__(self, case_ids):
        case_ids = set(case_ids)
        rows = Case.objects.filter(pk__in=case_ids).values_list(
            "pk", "organisation_id", "referent_agent_id", "epci_id", "territory_id"
        )
        self.cases = {pk: (org, ref, epci, ter) for pk, org, ref, epci, ter in rows}
        org_ids = {org for org, _, _, _ in self.cases.values()}
        territory_ids = {ter for _, _, _, ter in self.cases.values()}
        self.porteurs: dict[int, list[int]] = defaultdict(list)
        for uid, org in User.objects.filter(
            role=R.PORTEUR, is_active=True, organisation_id__in=org_ids
        ).values_list("pk", "organisation_id"):
            self.porteurs[org].append(uid)
        self.epci_agents: dict[int, list[int]] = defaultdict(list)
        self.territory_agents: dict[int, list[int]] = defaultdict(list)
        for uid, epci, ter in User.objects.filter(
            role=R.AGENT, is_active=True, territory_id__in=territory_ids
        ).values_list("pk", "epci_id", "territory_id"):
            self.territory_agents[ter].append(uid)
            self.epci_agents[epci].append(uid)
        self.directors: dict[int, list[int]] = defaultdict(list)
        for uid, ter in User.objects.filter(
            role=R.DIRECTOR, is_active=True, territory_id__in=territory_ids
        ).values_list("pk", "territory_id"):
            self.directors[ter].append(uid)

    def referent(self, case_id: int) -> list[int]:
        org, ref, epci, ter = self.cases.get(case_id, (None, None, None, None))
        if ref:
            return [ref]
        return self.epci_agents.get(epci) or self.territory_agents.get(ter, [])

    def director(self, case_id: int) -> list[int]:
        """The director(s) of the dossier's territory."""
        return self.directors.get(self.cases.get(case_id, (None,) * 4)[3], [])

    def party(self, case_id: int, party: str) -> list[int]:
        if party == R.PORTEUR:
            org = self.cases.get(case_id, (None,))[0]
            return self.porteurs.get(org, [])
        return self.referent(case_id)
