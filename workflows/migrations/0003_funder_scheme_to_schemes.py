# Funder and Scheme moved to the ``schemes`` app (schemes 0001), with their tables: the
# old models are dropped from the migration state only (cases 0012 re-pointed the foreign
# keys first); the database does not change.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0012_territory_to_schemes"),
        ("schemes", "0001_initial"),
        ("workflows", "0002_default_schemes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='scheme',
                    name='funder',
                ),
                migrations.DeleteModel(
                    name='Funder',
                ),
                migrations.DeleteModel(
                    name='Scheme',
                ),
            ],
        ),
    ]
