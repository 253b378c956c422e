"""Issue 11, revised rules 6 and 11 (docs/adr/009-per-funder-legal-track.md): the actual
eligible cost carried by a balance claim, and the recovery orders (reversements)."""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
import django_fsm
from django.conf import settings
from django.db import migrations, models

MONEY_MAX = Decimal("999999999999.99")


def _bounded(name: str, prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(
            models.Q((f"{name}__gte", -MONEY_MAX), (f"{name}__lte", MONEY_MAX)),
            (f"{name}__isnull", True),
            _connector="OR",
        ),
        name=f"{prefix}_{name}_bounded",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_committee_rule12"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentclaim",
            name="actual_cost",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=14,
                null=True,
                verbose_name="coût éligible réalisé",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentclaim", constraint=_bounded("actual_cost", "claim")
        ),
        migrations.CreateModel(
            name="RecoveryOrder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, max_digits=14, verbose_name="montant à reverser"
                    ),
                ),
                ("issued_on", models.DateField(verbose_name="date de l'ordre de reversement")),
                ("reason", models.TextField(verbose_name="motif")),
                (
                    "state",
                    django_fsm.FSMField(
                        choices=[
                            ("draft", "En préparation"),
                            ("issued", "Émis"),
                            ("recovered", "Reversé"),
                            ("cancelled", "Annulé"),
                        ],
                        default="draft",
                        max_length=50,
                        protected=True,
                    ),
                ),
                ("recovered_on", models.DateField(blank=True, null=True)),
                ("motivation", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
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
                        related_name="recovery_orders",
                        to="cases.fundingrequest",
                    ),
                ),
            ],
            options={"verbose_name": "ordre de reversement", "ordering": ["id"]},
            bases=(django_fsm.ConcurrentTransitionMixin, models.Model),
        ),
        migrations.AddConstraint(
            model_name="recoveryorder", constraint=_bounded("amount", "recovery")
        ),
    ]
