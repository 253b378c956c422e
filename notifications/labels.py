"""French wording of deadlines for people."""

from engine.deadlines import deadline_kinds

PARTY_LABELS = {"porteur": "le porteur de projet", "agent": "l'agent référent"}


def deadline_label(kind: str) -> str:
    """What a deadline asks, as declared with its kind (``workflows.definitions``)."""
    return deadline_kinds()[kind].label


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
