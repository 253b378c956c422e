"""The controlled list of themes a dossier is filed under (issue 12, point 6)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from cases.themes import theme_key


class Theme(models.Model):
    """One theme of the list, edited in the admin. ``key`` is the label compared without
    case, accents, spaces or punctuation: two themes may not share it, so the list never
    again holds « Economie et emploi » beside « Économie et emploi ». An inactive theme is
    no longer offered; the dossiers filed under it keep it."""

    label = models.CharField("libellé", max_length=120, unique=True)
    slug = models.SlugField("identifiant", max_length=120, unique=True, blank=True)
    key = models.CharField("clé de comparaison", max_length=120, unique=True, editable=False)
    active = models.BooleanField("proposé aux porteurs", default=True)
    order = models.PositiveIntegerField("ordre d'affichage", default=0)

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["order", "label"]

    def __str__(self):
        return self.label

    def clean(self):
        self.label = " ".join((self.label or "").split())
        key = theme_key(self.label)
        if not key:
            raise ValidationError({"label": "Le libellé du thème ne peut pas être vide."})
        twin = Theme.objects.filter(key=key).exclude(pk=self.pk).first()
        if twin:
            raise ValidationError(
                {"label": f"Ce thème existe déjà sous le libellé « {twin.label} »."}
            )

    def save(self, *args, **kwargs):
        self.key = theme_key(self.label)
        if not self.slug:
            self.slug = slugify(self.label)[:120] or self.key.replace(" ", "-")
        super().save(*args, **kwargs)
