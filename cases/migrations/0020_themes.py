"""The controlled list of themes (issue 12, point 6).

Creates ``Theme``, adds ``Case.theme_ref``, then ``merge_theme_variants``: the initial list,
and every theme already typed on a dossier matched to it without case, accents, spaces or
punctuation (« Economie et emploi » is « Économie et emploi »); a text that matches no
theme becomes a new theme, so nothing is lost. The text column keeps the theme's label.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify

from cases.themes import INITIAL_THEMES, theme_key, theme_label


def _unique_slug(Theme, label, key):
    base = (slugify(label) or key.replace(" ", "-") or "theme")[:110]
    slug, n = base, 1
    while Theme.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _theme_for(Theme, by_key, text, order):
    key = theme_key(text)
    if not key:
        return None
    if key not in by_key:
        label = theme_label(text)
        by_key[key] = Theme.objects.create(
            label=label, key=key, slug=_unique_slug(Theme, label, key), order=order
        )
    return by_key[key]


def merge_theme_variants(apps, schema_editor):
    Theme = apps.get_model("cases", "Theme")
    Case = apps.get_model("cases", "Case")
    by_key = {t.key: t for t in Theme.objects.all()}
    for position, label in enumerate(INITIAL_THEMES, start=1):
        _theme_for(Theme, by_key, label, position * 10)
    texts = Case.objects.exclude(theme="").values_list("theme", flat=True).distinct()
    next_order = (len(INITIAL_THEMES) + 1) * 10
    for text in sorted(set(texts)):
        theme = _theme_for(Theme, by_key, text, next_order)
        if theme is None:
            Case.objects.filter(theme=text).update(theme="")
            continue
        Case.objects.filter(theme=text).update(theme_ref=theme, theme=theme.label)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0019_message_attachments_corrections"),
    ]

    operations = [
        migrations.CreateModel(
            name="Theme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=120, unique=True, verbose_name="libellé")),
                (
                    "slug",
                    models.SlugField(
                        blank=True, max_length=120, unique=True, verbose_name="identifiant"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        editable=False,
                        max_length=120,
                        unique=True,
                        verbose_name="clé de comparaison",
                    ),
                ),
                (
                    "active",
                    models.BooleanField(default=True, verbose_name="proposé aux porteurs"),
                ),
                (
                    "order",
                    models.PositiveIntegerField(default=0, verbose_name="ordre d'affichage"),
                ),
            ],
            options={
                "verbose_name": "thème",
                "verbose_name_plural": "thèmes",
                "ordering": ["order", "label"],
            },
        ),
        migrations.AlterField(
            model_name="case",
            name="theme",
            field=models.CharField(
                blank=True, default="", max_length=120, verbose_name="thème (libellé)"
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="theme_ref",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.theme",
                verbose_name="thème",
            ),
        ),
        migrations.RunPython(merge_theme_variants, migrations.RunPython.noop),
    ]
