"""Issue 11, revised rules 1-4 (docs/adr/009-per-funder-legal-track.md): each funding
request's own legal track (sent, received, complete, eligibility start, implicit
decision) and the state a dossier's documents were requested in.

Existing requests are carried over as the desk saw them: sent, received and eligible
from the dossier's receipt date; complete on the dossier's completeness date once in
instruction or beyond; their implicit-decision date from their open deadline."""

from django.db import migrations, models

NOT_COMPLETE = ("requested", "withdrawn")


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    FundingRequest = apps.get_model("cases", "FundingRequest")
    Deadline = apps.get_model("engine", "Deadline")
    ContentType = apps.get_model("contenttypes", "ContentType")
    dates = Case.objects.exclude(receipt_date=None).values_list("pk", "receipt_date", "complete_on")
    for case_id, receipt, complete in dates.iterator():
        requests = FundingRequest.objects.filter(case_id=case_id)
        requests.update(sent_on=receipt, received_on=receipt, eligibility_start=receipt)
        if complete is not None:
            requests.exclude(state__in=NOT_COMPLETE).update(complete_on=complete)
    ct = ContentType.objects.filter(app_label="cases", model="fundingrequest").first()
    if ct is None:
        return
    live = Deadline.objects.filter(
        subject_type=ct, kind="implicit_decision", state__in=("open", "suspended")
    ).values_list("subject_id", "due_on")
    for fr_id, due in live.iterator():
        FundingRequest.objects.filter(pk=fr_id).update(implicit_decision_on=due)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_territory_to_schemes"),
        ("engine", "0002_accesslog"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.AddField(
            model_name="case",
            name="documents_requested_from",
            field=models.CharField(blank=True, default="", max_length=20),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="complete_on",
            field=models.DateField(blank=True, null=True, verbose_name="complète le"),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="eligibility_start",
            field=models.DateField(
                blank=True, null=True, verbose_name="début d'éligibilité des dépenses"
            ),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="implicit_decision_on",
            field=models.DateField(blank=True, null=True, verbose_name="décision implicite le"),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="received_on",
            field=models.DateField(blank=True, null=True, verbose_name="reçue par le financeur le"),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="sent_on",
            field=models.DateField(blank=True, null=True, verbose_name="envoyée au financeur le"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
