"""Issue 11 (docs/adr/009-per-funder-legal-track.md): reserved in the chain so the parts
of the issue built side by side never make two leaf migrations; filled by its part."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_request_legal_track")]
    operations = []
