"""Who must act: porteurs of the dossier's organisation, its referent agent, the director."""

from __future__ import annotations

from collections import defaultdict

from cases.models import Case, User

R = User.Role


class Recipients:
    """Resolves recipients for many dossiers with a fixed number of queries."""

    def __init__(self, case_ids):
        case_ids = set(case_ids)
        rows = Case.objects.filter(pk__in=case_ids).values_list(
            "pk", "organisation_id", "referent_agent_id", "epci_id"
        )
        self.cases = {pk: (org, ref, epci) for pk, org, ref, epci in rows}
        org_ids = {org for org, _, _ in self.cases.values()}
        self.porteurs: dict[int, list[int]] = defaultdict(list)
        for uid, org in User.objects.filter(
            role=R.PORTEUR, is_active=True, organisation_id__in=org_ids
        ).values_list("pk", "organisation_id"):
            self.porteurs[org].append(uid)
        self.epci_agents: dict[int, list[int]] = defaultdict(list)
        self.all_agents: list[int] = []
        for uid, epci in User.objects.filter(role=R.AGENT, is_active=True).values_list(
            "pk", "epci_id"
        ):
            self.all_agents.append(uid)
            self.epci_agents[epci].append(uid)
        self.directors = list(
            User.objects.filter(role=R.DIRECTOR, is_active=True).values_list("pk", flat=True)
        )

    def referent(self, case_id: int) -> list[int]:
        org, ref, epci = self.cases.get(case_id, (None, None, None))
        if ref:
            return [ref]
        return self.epci_agents.get(epci) or self.all_agents

    def party(self, case_id: int, party: str) -> list[int]:
        if party == R.PORTEUR:
            org = self.cases.get(case_id, (None,))[0]
            return self.porteurs.get(org, [])
        return self.referent(case_id)
