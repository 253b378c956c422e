# Issue 16 (1 M dossiers): a reference-shaped search (``q=GU-2024``) reads its page from
# an index of the references in byte order (``COLLATE "C"``, cases/search.py): a prefix is
# a range of it whatever the database's locale, and the index gives the list's order
# (newest reference first) so the page stops at its 20 rows. PostgreSQL only (SQLite
# compares bytes and the search needs no index there). On a large live database, create
# it beforehand with CREATE INDEX CONCURRENTLY under the same name (bench/README.md).

from django.db import migrations

INDEX_SQL = 'CREATE INDEX IF NOT EXISTS case_reference_c_idx ON cases_case ((reference COLLATE "C"))'


def reference_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX_SQL)


def drop_reference_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_reference_c_idx")


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0031_request_case_copy"),
    ]

    operations = [
        migrations.RunPython(reference_index, drop_reference_index),
    ]
