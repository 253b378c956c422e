# Territory, EPCI and Commune moved to the ``schemes`` app (schemes 0001), with their
# tables: the foreign keys are re-pointed and the old models dropped in the migration
# state only; the database does not change.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0011_money_within_bounds"),
        ("schemes", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='organisation',
                    name='commune',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='organisations', to='schemes.commune'),
                ),
                migrations.RemoveField(
                    model_name='epci',
                    name='territory',
                ),
                migrations.AlterField(
                    model_name='user',
                    name='epci',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='schemes.epci'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='epci',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='schemes.epci'),
                ),
                migrations.AlterField(
                    model_name='organisation',
                    name='epci',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='organisations', to='schemes.epci'),
                ),
                migrations.AlterField(
                    model_name='committeesession',
                    name='territory',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='committee_sessions', to='schemes.territory'),
                ),
                migrations.AlterField(
                    model_name='user',
                    name='territory',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='staff', to='schemes.territory'),
                ),
                migrations.AlterField(
                    model_name='organisation',
                    name='territory',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='organisations', to='schemes.territory'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='territory',
                    field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='schemes.territory'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='communes',
                    field=models.ManyToManyField(blank=True, related_name='cases', to='schemes.commune'),
                ),
                migrations.AlterField(
                    model_name='committeesession',
                    name='scheme',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='schemes.scheme'),
                ),
                migrations.AlterField(
                    model_name='fundingrequest',
                    name='scheme',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='schemes.scheme'),
                ),
                migrations.AlterField(
                    model_name='payment',
                    name='scheme',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='schemes.scheme'),
                ),
                migrations.AlterField(
                    model_name='resourceline',
                    name='scheme',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='schemes.scheme'),
                ),
                migrations.AlterField(
                    model_name='user',
                    name='funder',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='schemes.funder'),
                ),
                migrations.DeleteModel(
                    name='Commune',
                ),
                migrations.DeleteModel(
                    name='EPCI',
                ),
                migrations.DeleteModel(
                    name='Territory',
                ),
            ],
        ),
    ]
