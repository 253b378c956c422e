"""Issue 11 (docs/adr/009-per-funder-legal-track.md), revised rule 12: the LEADER
committee's written consultations, declarations of interest per item, substitutes, and
the validity of each item recorded with its decision."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_plan_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="committeesession",
            name="kind",
            field=models.CharField(
                choices=[("meeting", "Séance"), ("written", "Consultation écrite")],
                default="meeting",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="committeesession",
            name="closes_on",
            field=models.DateField(
                blank=True,
                help_text=(
                    "Consultation écrite : les réponses sont reçues jusqu'à cette date incluse."
                ),
                null=True,
                verbose_name="date limite des réponses",
            ),
        ),
        migrations.AddField(
            model_name="vote",
            name="on_behalf_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="suppléé",
            ),
        ),
        migrations.AddField(
            model_name="committeedecision",
            name="valid",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="committeedecision",
            name="reason",
            field=models.TextField(blank=True, default="", verbose_name="motif de l'ajournement"),
        ),
        migrations.AddField(
            model_name="committeedecision",
            name="present",
            field=models.PositiveIntegerField(
                null=True, verbose_name="sièges comptés pour le quorum"
            ),
        ),
        migrations.CreateModel(
            name="InterestDeclaration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        default="",
                        max_length=500,
                        verbose_name="nature de l'intérêt",
                    ),
                ),
                ("declared_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="declarations",
                        to="cases.committeesession",
                    ),
                ),
                (
                    "funding_request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="interest_declarations",
                        to="cases.fundingrequest",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "déclaration de conflit d'intérêts"},
        ),
        migrations.AddConstraint(
            model_name="interestdeclaration",
            constraint=models.UniqueConstraint(
                fields=("session", "funding_request", "member"), name="one_declaration_per_item"
            ),
        ),
        migrations.CreateModel(
            name="CommitteeSubstitute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("named_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "titular",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="committee_substitute",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "substitute",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="committee_titular",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "named_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "suppléant au comité"},
        ),
        migrations.AddConstraint(
            model_name="committeesubstitute",
            constraint=models.CheckConstraint(
                condition=models.Q(("titular", models.F("substitute")), _negated=True),
                name="substitute_not_self",
            ),
        ),
    ]
