"""Money columns bounded by the database itself (``cases.models.money_bounds``): what
PostgreSQL's numeric(14, 2) already refuses, SQLite refuses too.

An SQLite database written before the input layer may hold a plan line of 1e30 € (which
broke every list showing its dossier): such amounts are brought back to the bound first,
or the constraint could not be added. PostgreSQL never holds one (nothing to do)."""

from decimal import Decimal

from django.db import migrations, models

MONEY_MAX = Decimal("999999999999.99")
COLUMNS = {
    "expenseline": ["amount"],
    "resourceline": ["amount"],
    "fundingrequest": ["amount_requested", "amount_granted", "amount_paid"],
    "paymentclaim": ["amount", "paid_amount"],
    "payment": ["amount"],
}
PREFIX = {
    "expenseline": "expense",
    "resourceline": "resource",
    "fundingrequest": "request",
    "paymentclaim": "claim",
    "payment": "payment",
}


def clamp(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model_name, columns in COLUMNS.items():
            table = quote(apps.get_model("cases", model_name)._meta.db_table)
            for column in map(quote, columns):
                for op, bound in ((">", MONEY_MAX), ("<", -MONEY_MAX)):
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {column} {op} %s",
                        [bound, bound],
                    )


def bounded(prefix: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{name}__gte": -MONEY_MAX, f"{name}__lte": MONEY_MAX})
        | models.Q(**{f"{name}__isnull": True}),
        name=f"{prefix}_{name}_bounded",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_territory_reference_prefix"),
    ]

    operations = [
        migrations.RunPython(clamp, migrations.RunPython.noop),
        *(
            migrations.AddConstraint(
                model_name=model_name, constraint=bounded(PREFIX[model_name], column)
            )
            for model_name, columns in COLUMNS.items()
            for column in columns
        ),
    ]
