"""The demo's cast and proportions: accounts, committee, instructors, and how many of the
72 real operations end in each state."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "detr_dsil_2019_operations.csv"
PASSWORD = "bastides-2026"  # demo only; passes Django's password validators
EMAIL_DOMAIN = "example.org"
MARKER_USER = "agent.carmausin"
MARKER_TITLE = "Itinéraire de découverte des bastides du Cordais (signalétique et application)"
CENT = Decimal("0.01")

# The five agents, one per EPCI (username suffix, EPCI SIREN, first name, last name).
AGENTS = [
    ("carmausin", "200040905", "Claire", "Fabre"),
    ("centretarn", "200034049", "Julien", "Rouquette"),
    ("montsalban", "200034031", "Sophie", "Alquier"),
    ("val81", "248100497", "Mathieu", "Cabrol"),
    ("cordais", "200034064", "Élodie", "Vidal"),
]
EPCI_SHORT = {siren: suffix for suffix, siren, _, _ in AGENTS}
PARTNERS = [("carmausin", "200040905"), ("val81", "248100497")]
# LEADER committee: 12 members (username, college, interest group, first and last name);
# the public college is one interest group.
COMMITTEE = [
    ("comite.elu1", "public", "", "Jean-Marc", "Bousquet"),
    ("comite.elu2", "public", "", "Sylvie", "Cabrol"),
    ("comite.elu3", "public", "", "Patrick", "Vialar"),
    ("comite.elu4", "public", "", "Martine", "Sudre"),
    ("comite.elu5", "public", "", "Didier", "Fabre"),
    ("comite.agri1", "private", "agriculture", "Hélène", "Roques"),
    ("comite.agri2", "private", "agriculture", "Laurent", "Bonnafous"),
    ("comite.asso1", "private", "associations", "Nadia", "Ferrand"),
    ("comite.asso2", "private", "associations", "Thierry", "Calmels"),
    ("comite.entreprise1", "private", "entreprises", "Claire", "Albert"),
    ("comite.entreprise2", "private", "entreprises", "Olivier", "Marcouly"),
    ("comite.tourisme1", "private", "tourisme", "Isabelle", "Vergnes"),
]
# Present at the closed session: 9 of 12 (quorum 50 %), public college 4 of 9 votes (44 %).
PRESENT_CLOSED = [
    "comite.elu1",
    "comite.elu2",
    "comite.elu3",
    "comite.elu4",
    "comite.agri1",
    "comite.agri2",
    "comite.asso1",
    "comite.entreprise1",
    "comite.tourisme1",
]
INSTRUCTORS = [
    ("instr.etat", "ETAT", "Préfecture du Tarn — bureau des dotations"),
    ("instr.region", "REGION_OCC", "Région Occitanie — service territoires"),
    ("instr.departement", "DEPT_TARN", "Département du Tarn — développement territorial"),
    ("instr.feader", "UE", "Service instructeur FEADER (Région, autorité de gestion)"),
]
SCHEME_INSTRUCTOR = {
    "DETR": "instr.etat",
    "DSIL": "instr.etat",
    "FONDS_VERT": "instr.etat",
    "REGION_OCC": "instr.region",
    "DEPT_TARN": "instr.departement",
    "LEADER": "instr.feader",
}

# How many of the 72 operations end in each state (shuffled deterministically).
DISTRIBUTION = {
    "idea": 4,
    "scoping": 3,
    "draft": 5,
    "submitted": 5,
    "incomplete": 4,
    "instruction": 6,
    "decided": 6,
    "in_progress": 11,
    "completed": 6,
    "closed": 13,
    "rejected": 3,
    "withdrawn": 3,
    "lapsed": 3,
}
MULTI_FUNDER_STATES = {"submitted", "instruction", "decided", "in_progress", "completed", "closed"}
