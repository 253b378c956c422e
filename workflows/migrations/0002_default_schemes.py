from decimal import Decimal as D

from django.db import migrations

FUNDERS = {
    "UE": "Union européenne (FEADER, via le GAL LEADER)",
    "ETAT": "État (préfecture du Tarn)",
    "REGION_OCC": "Région Occitanie",
    "DEPT_TARN": "Département du Tarn",
}

DELIB = {"code": "deliberation",
         "label": "Délibération ou décision approuvant le projet et son plan de financement"}
DEVIS = {"code": "devis", "label": "Devis ou estimation détaillée des dépenses"}
NOTE = {"code": "note_explicative", "label": "Note explicative du projet"}
PLAN = {"code": "plan_situation", "label": "Plan de situation et plan des travaux"}
RIB = {"code": "rib", "label": "Relevé d'identité bancaire"}
REGUL = {"code": "regularite", "label": "Attestation de régularité fiscale et sociale"}

STATE = dict(rate_min=D("0.20"), rate_max=D("0.80"), advance_max_rate=D("0.30"),
             installments_max_rate=D("0.80"), expected_payment_delay_days=60,
             works_start_months=24, works_start_from="grant", completion_months=48,
             completion_from="start", required_documents=[DELIB, NOTE, DEVIS, PLAN])

SCHEMES = [
    dict(code="LEADER", name="LEADER 2023-2027 (FEADER) — GAL de l'Albigeois et des Bastides",
         funder="UE", flow_kind="leader", committee=True, is_feader=True,
         rate_min=D("0"), rate_max=D("0.80"), min_amount=D("10000"),
         national_match_ratio=D("4"), envelope=D("2400000"),
         works_start_months=12, works_start_from="commit", completion_months=24,
         completion_from="commit", balance_claim_months=6, advance_max_rate=None,
         installments_max_rate=D("0.80"), expected_payment_delay_days=270,
         required_documents=[DELIB, DEVIS, RIB, REGUL],
         grid=[
             {"code": "ancrage", "label": "Ancrage territorial et besoin local", "max": 5},
             {"code": "innovation", "label": "Caractère innovant (méthode ou contenu)", "max": 5},
             {"code": "transition", "label": "Contribution aux transitions", "max": 5},
             {"code": "cooperation", "label": "Partenariat et coopération", "max": 4},
             {"code": "economie", "label": "Économie et emploi locaux", "max": 4},
         ],
         grid_min_score=D("10")),
    dict(code="DETR", name="Dotation d'équipement des territoires ruraux", funder="ETAT",
         envelope=D("3200000"), **STATE),
    dict(code="DSIL", name="Dotation de soutien à l'investissement local", funder="ETAT",
         envelope=D("1500000"), **STATE),
    dict(code="FONDS_VERT", name="Fonds d'accélération de la transition écologique (Fonds vert)",
         funder="ETAT", envelope=D("900000"),
         **{**STATE, "rate_min": D("0"), "expected_payment_delay_days": 90}),
    dict(code="REGION_OCC", name="Région Occitanie — contrat territorial", funder="REGION_OCC",
         rate_min=D("0"), rate_max=D("0.50"), advance_max_rate=D("0.30"),
         expected_payment_delay_days=90, envelope=D("1800000"),
         required_documents=[DELIB, DEVIS, RIB]),
    dict(code="DEPT_TARN", name="Département du Tarn — fonds de développement territorial",
         funder="DEPT_TARN", rate_min=D("0"), rate_max=D("0.50"), advance_max_rate=None,
         expected_payment_delay_days=60, envelope=D("1200000"),
         required_documents=[DELIB, DEVIS]),
]


def load(apps, schema_editor):
    Funder = apps.get_model("workflows", "Funder")
    Scheme = apps.get_model("workflows", "Scheme")
    funders = {code: Funder.objects.get_or_create(code=code, defaults={"name": name})[0]
               for code, name in FUNDERS.items()}
    for data in SCHEMES:
        data = dict(data)
        data["funder"] = funders[data["funder"]]
        Scheme.objects.update_or_create(code=data.pop("code"), defaults=data)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
