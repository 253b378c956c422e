"""Writes of the controlled theme list, and the reading of a theme typed or sent.

``theme_resolve`` is the one place a text becomes a ``Theme``: the wizard's select, the
API (label or slug) and the demo all go through it.
"""

from __future__ import annotations

from django.db import transaction

from cases.models import Case, Theme
from cases.themes import theme_key
from engine.errors import DomainError


def theme_resolve(value, *, current: Theme | None = None) -> Theme | None:
    """The theme named by ``value`` (its label or slug, compared without case, accents,
    spaces or punctuation); ``None`` for an empty value. An inactive theme is accepted
    only if it is the dossier's ``current`` one."""
    if isinstance(value, Theme):
        value = value.slug
    text = str(value or "").strip()[:200]
    if not text:
        return None
    key = theme_key(text)
    theme = (
        Theme.objects.filter(key=key).first()
        or Theme.objects.filter(slug=text.lower()).first()
        or Theme.objects.filter(slug=key.replace(" ", "-")).first()
    )
    if theme is None or (not theme.active and theme != current):
        raise DomainError(
            f"Thème inconnu : « {text[:120]} ». Choisissez un thème de la liste.",
            errors={"theme": ["Choisissez un thème de la liste."]},
        )
    return theme


@transaction.atomic
def theme_save(theme: Theme) -> Theme:
    """Save a theme of the list; a new label is written on its dossiers' text column."""
    theme.full_clean()
    theme.save()
    Case.objects.filter(theme_ref=theme).exclude(theme=theme.label).update(theme=theme.label)
    return theme
