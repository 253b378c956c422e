"""The load test's proportions: how many dossiers end in each state, the path of
transitions that leads there (the dossier's and its funding requests'), the words of the
titles."""

from __future__ import annotations

STATE_WEIGHTS = {
    "idea": 5,
    "scoping": 4,
    "draft": 8,
    "submitted": 6,
    "incomplete": 4,
    "instruction": 10,
    "decided": 8,
    "in_progress": 15,
    "completed": 8,
    "closed": 22,
    "rejected": 4,
    "withdrawn": 4,
    "lapsed": 2,
}
# The dossier's path from idea to its state: (transition, target), in order.
BASE = [("open_application", "draft"), ("submit", "submitted")]
INSTRUCT = [*BASE, ("declare_complete", "instruction")]
DECIDE = [*INSTRUCT, ("record_decisions", "decided")]
PATHS = {
    "idea": [],
    "scoping": [("start_scoping", "scoping")],
    "draft": [("start_scoping", "scoping"), ("open_application", "draft")],
    "submitted": BASE,
    "incomplete": [*BASE, ("request_documents", "incomplete")],
    "instruction": INSTRUCT,
    "decided": DECIDE,
    "in_progress": [*DECIDE, ("start_works", "in_progress")],
    "completed": [*DECIDE, ("start_works", "in_progress"), ("complete_works", "completed")],
    "closed": [
        *DECIDE,
        ("start_works", "in_progress"),
        ("complete_works", "completed"),
        ("close", "closed"),
    ],
    "rejected": [*INSTRUCT, ("record_decisions", "rejected")],
    "withdrawn": [*BASE, ("withdraw", "withdrawn")],
    "lapsed": [*DECIDE, ("lapse", "lapsed")],
}
# Funding request: state and path for each dossier state.
FR_PATHS = {
    "submitted": [],
    "incomplete": [],
    "instruction": [("start_instruction", "instructing")],
    "decided": [("start_instruction", "instructing"), ("grant", "granted")],
    "in_progress": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
    ],
    "completed": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
        ("start_paying", "paying"),
    ],
    "closed": [
        ("start_instruction", "instructing"),
        ("grant", "granted"),
        ("commit", "committed"),
        ("mark_paid", "paid"),
    ],
    "rejected": [("start_instruction", "instructing"), ("refuse", "refused")],
    "withdrawn": [("withdraw", "withdrawn")],
    "lapsed": [("start_instruction", "instructing"), ("grant", "granted"), ("lapse", "lapsed")],
}
PUBLIC_SCHEMES = ["DETR", "DSIL", "FONDS_VERT"]
PRIVATE_SCHEMES = ["LEADER", "REGION_OCC"]
THEMES = [
    "Voirie",
    "Écoles",
    "Patrimoine",
    "Transition énergétique",
    "Eau et assainissement",
    "Tourisme",
    "Commerce de proximité",
    "Culture",
    "Sport",
    "Santé",
]
WORDS = [
    "Rénovation",
    "Aménagement",
    "Création",
    "Extension",
    "Mise aux normes",
    "Réhabilitation",
]
OBJECTS = [
    "de l'école",
    "de la salle des fêtes",
    "du centre-bourg",
    "de la mairie",
    "du gîte communal",
    "de la halle",
    "du stade",
    "de la médiathèque",
    "des vestiaires",
    "de la voirie communale",
]
PASSWORD = "bench-2026"  # noqa: S105 - scratch database only
