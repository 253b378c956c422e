"""French wording of deadlines for people."""

DEADLINE_LABELS = {
    "completeness": "Vérifier la complétude du dossier (sinon il est réputé complet)",
    "documents": "Fournir les pièces demandées",
    "implicit_decision": "Décider avant le rejet implicite (deux mois de silence)",
    "works_start": "Commencer les travaux (sinon l'aide devient caduque)",
    "works_completion": "Achever les travaux",
    "balance_claim": "Déposer la demande de solde",
    "operation_end": "Fin de l'opération (convention LEADER)",
}

PARTY_LABELS = {"porteur": "le porteur de projet", "agent": "l'agent référent"}


def deadline_label(kind: str) -> str:
    return DEADLINE_LABELS.get(kind, kind)


def when_label(days: int) -> str:
    if days > 1:
        return f"dans {days} jours"
    if days == 1:
        return "demain"
    if days == 0:
        return "aujourd'hui"
    if days == -1:
        return "dépassée depuis hier"
    return f"dépassée depuis {-days} jours"
