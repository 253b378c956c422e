"""Overlap signal (« Signaler les doublons entre projets voisins »): the dossiers of the
last three years that look like the same project — same theme, same or a neighbouring
EPCI, similar title — scoped to what the user may see.

Titles are compared as sets of normalised French words: lower case, no accents, no stop
words, a crude plural/feminine folding. Plain Python over a bounded candidate set, so it
works the same on PostgreSQL and on the SQLite demo.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone

from schemes.models import EPCI

from .models import Case
from .selectors import case_list

YEARS = 3
MAX_CANDIDATES = 500
MIN_SIMILARITY = 0.4  # Dice coefficient of the significant words of both titles

STOP_WORDS = frozenset(
    """
    a au aux avec ce ces cet cette d dans de des du en et l la le les leur leurs ou par
    pour sa se ses son sous sur un une vers y qu que qui ne pas plus son
    projet operation operations phase tranche travaux amenagement creation realisation
    commune communal communale communaux intercommunal intercommunale
    mise norme normes niveau divers diverse
    """.split()
)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith(("s", "x")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def title_words(text: str) -> dict[str, str]:
    """The significant words of a title, as {folded stem: the word as written}:
    lower case, accents and apostrophes (' and ’) dropped, stop words removed, plurals
    and feminines folded. « Rénovation de l’École » → {renovation: rénovation, ecol: école}."""
    return dict(_title_words(text or ""))


@lru_cache(maxsize=20_000)
def _title_words(text: str) -> tuple[tuple[str, str], ...]:
    # Cached per process: the same candidate titles come back on every dossier page of a
    # theme (bench/load.py: the folding was 40 % of the dossier page).
    out: dict[str, str] = {}
    for written in re.split(r"[^\w]+", (text or "").lower()):
        decomposed = unicodedata.normalize("NFKD", written)
        word = "".join(c for c in decomposed if not unicodedata.combining(c))
        word = word.encode("ascii", "ignore").decode()
        if len(word) < 2 or word in STOP_WORDS:
            continue
        stem = _stem(word)
        if stem in STOP_WORDS:
            continue
        out.setdefault(stem, written)
    return tuple(out.items())


@lru_cache(maxsize=20_000)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(stem for stem, _ in _title_words(text))


def normalise_words(text: str) -> set[str]:
    """The significant words of a title: « Rénovation de l'École » → {renovation, ecol}."""
    return set(_word_set(text or ""))


def neighbouring_epci_ids(epci_id: int | None) -> set[int]:
    """The EPCI next to this one. The five EPCI of the PETR are all neighbours within the
    territory, so every EPCI of the territory is."""
    return set(EPCI.objects.values_list("pk", flat=True))


@dataclass
class SimilarCase:
    case: Case
    same_epci: bool
    shared_words: list[str]
    score: float

    @property
    def reason(self) -> str:
        where = "même EPCI" if self.same_epci else "EPCI voisin"
        words = ", ".join(self.shared_words)
        return f"Même thème, {where}, titre proche (mots communs : {words})."


def similarity(words_a: set[str], words_b: set[str]) -> float:
    if not words_a or not words_b:
        return 0.0
    return 2 * len(words_a & words_b) / (len(words_a) + len(words_b))


def similar_cases(case: Case, *, user, limit: int = 10) -> list[SimilarCase]:
    """Dossiers of the last three years that look like ``case``, visible to ``user``:
    same theme, same or neighbouring EPCI, similar title. Same EPCI first, then the most
    similar, then the most recent."""
    theme = (case.theme or "").strip()
    written = title_words(case.title)
    words = set(written)
    if not theme or not words:
        return []
    since = timezone.now() - dt.timedelta(days=365 * YEARS + 1)
    neighbours = neighbouring_epci_ids(case.epci_id)
    if case.epci_id:
        neighbours.add(case.epci_id)
    visible = case_list(user=user)
    # Only what the comparison needs for the (up to 500) candidates; the few dossiers
    # found are read in full afterwards.
    candidates = (
        visible.filter(theme__iexact=theme, created_at__gte=since, epci_id__in=neighbours)
        .exclude(pk=case.pk)
        .order_by("-created_at", "-id")
        .values_list("pk", "title", "epci_id", "created_at")[:MAX_CANDIDATES]
    )
    found = []
    for pk, title, epci_id, created_at in candidates:
        other_words = _word_set(title or "")
        shared = words & other_words
        score = similarity(words, other_words)
        if not shared or score < MIN_SIMILARITY:
            continue
        if len(shared) < 2 and min(len(words), len(other_words)) > 1:
            continue  # one common word between two longer titles is a coincidence
        same_epci = case.epci_id is not None and epci_id == case.epci_id
        found.append((not same_epci, -score, -created_at.timestamp(), pk, same_epci, shared, score))
    found.sort(key=lambda f: f[:3])
    found = found[:limit]
    full = visible.in_bulk([f[3] for f in found])
    return [
        SimilarCase(
            case=full[pk],
            same_epci=same_epci,
            shared_words=[written[w] for w in sorted(shared)],
            score=score,
        )
        for *_, pk, same_epci, shared, score in found
        if pk in full
    ]
