"""Issue 11, revised rule 11: the alert of a payment projected after the end of the FEADER
programme (``programme_end``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("payment_overdue", "Paiement en retard"),
                    ("treasury_risk", "Risque de trésorerie"),
                    ("feader_blocked", "FEADER bloqué par un cofinanceur"),
                    ("installment_ceiling", "Plafond des acomptes atteint"),
                    ("late_forecast", "Paiement prévu trop tard"),
                    ("programme_end", "Paiement prévu après la fin du programme FEADER"),
                ],
                max_length=30,
            ),
        ),
    ]
