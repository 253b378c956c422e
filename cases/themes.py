"""The controlled list of themes: how a typed theme is matched to one of the list.

Two texts are the same theme when they differ only by case, accents, spaces or
punctuation (« Economie et emploi », « Économie et emploi », « économie  et emploi. »).
``theme_key`` is that comparison, used by the model (uniqueness), the services (a theme
typed or sent through the API) and the data migration that merged the free texts.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

#: The initial list (migration 0019): the themes of the porteur's wizard, then the
#: categories of the territory's DETR/DSIL programme (shared/data, the demo's operations).
INITIAL_THEMES = [
    "Services à la population",
    "Écoles et enfance",
    "Éducation",
    "Culture",
    "Sport et loisirs",
    "Tourisme et patrimoine",
    "Économie et emploi",
    "Alimentation et transition",
    "Mobilité",
    "Rénovation énergétique",
    "Environnement, transition énergétique et écologie",
    "Eau et assainissement",
    "Voirie et aménagement",
    "Construction, habitat, urbanisme et transport",
    "Mise aux normes et sécurisation",
    "Actions et services publics",
    "Santé",
    "Santé, sanitaire et social",
    "Contrat de ruralité",
]


def theme_key(text: str | None) -> str:
    """Lower case, no accents, words separated by one space, no punctuation."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare).split())[:120]


def theme_label(text: str | None) -> str:
    """A typed text as a label: spaces collapsed, first letter upper case."""
    label = " ".join((text or "").split())[:120]
    return label[:1].upper() + label[1:]
