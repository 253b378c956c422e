"""Issue 11, revised rules 5 and 7 (docs/adr/009-per-funder-legal-track.md): extensions
of a funding request's works deadlines; the sweep no longer lapses, so the live deadlines
planned with the automatic ``lapse`` lose it (they become ``missed`` when overdue, and the
funder records the lapse)."""

import django.db.models.deletion
import django.utils.timezone
import django_fsm
from django.conf import settings
from django.db import migrations, models


def drop_automatic_lapse(apps, schema_editor):
    Deadline = apps.get_model("engine", "Deadline")
    Deadline.objects.filter(expiry_transition="lapse").update(expiry_transition="")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_request_legal_track"),
        ("engine", "0003_deadline_missed_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.CreateModel(
            name="Extension",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "deadline",
                    models.CharField(
                        choices=[
                            ("works_start", "Commencement des travaux"),
                            ("works_completion", "Achèvement des travaux"),
                        ],
                        max_length=20,
                        verbose_name="échéance prorogée",
                    ),
                ),
                ("due_on", models.DateField(verbose_name="échéance à la demande")),
                ("until", models.DateField(verbose_name="nouvelle échéance demandée")),
                ("reason", models.TextField(verbose_name="motif de la demande")),
                (
                    "state",
                    django_fsm.FSMField(
                        choices=[
                            ("requested", "Demandée"),
                            ("granted", "Accordée"),
                            ("refused", "Refusée"),
                        ],
                        default="requested",
                        max_length=50,
                        protected=True,
                    ),
                ),
                (
                    "motivation",
                    models.TextField(
                        blank=True, default="", verbose_name="motivation de la décision"
                    ),
                ),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("decided_on", models.DateField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "funding_request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="extensions",
                        to="cases.fundingrequest",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "prorogation",
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        fields=["funding_request", "deadline", "state"],
                        name="cases_exten_funding_4a572c_idx",
                    )
                ],
            },
            bases=(django_fsm.ConcurrentTransitionMixin, models.Model),
        ),
        migrations.RunPython(drop_automatic_lapse, migrations.RunPython.noop),
    ]
