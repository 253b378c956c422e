# The reference data moves to this app: funders and schemes (from ``workflows``), the
# territory, its EPCI and communes (from ``cases``). The tables stay where they are
# (``Meta.db_table``): this migration creates the models in the migration state only, and
# cases 0012 / workflows 0003 re-point their foreign keys and drop the old models from the
# state. The rows of ``django_content_type`` follow the models, so that permissions and
# the admin's history stay attached to them.

import django.core.validators
import django.db.models.deletion
from decimal import Decimal

from django.db import migrations, models

import schemes.models

MOVED = {"cases": ["territory", "epci", "commune"], "workflows": ["funder", "scheme"]}


def _relabel(apps, *, forwards):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_label, names in MOVED.items():
        source, target = (old_label, "schemes") if forwards else ("schemes", old_label)
        for name in names:
            row = ContentType.objects.filter(app_label=source, model=name).first()
            if row is None:  # a new database: post_migrate creates the rows at the end
                continue
            # A row under the target label exists only if post_migrate ran with today's
            # code before this migration (``migrate <app> <earlier>``): it holds nothing
            # but its fresh permissions. Keep the row that permissions and logs point at.
            ContentType.objects.filter(app_label=target, model=name).delete()
            row.app_label = target
            row.save(update_fields=["app_label"])


def content_types_forwards(apps, schema_editor):
    _relabel(apps, forwards=True)


def content_types_backwards(apps, schema_editor):
    _relabel(apps, forwards=False)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0011_money_within_bounds"),
        ("workflows", "0002_default_schemes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='EPCI',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('siren', models.CharField(max_length=9, unique=True)),
                        ('name', models.CharField(max_length=160)),
                    ],
                    options={
                        'verbose_name': 'EPCI',
                        'verbose_name_plural': 'EPCI',
                        'db_table': 'cases_epci',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Funder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=20, unique=True)),
                        ('name', models.CharField(max_length=120)),
                    ],
                    options={
                        'verbose_name': 'financeur',
                        'db_table': 'workflows_funder',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Territory',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('slug', models.SlugField(max_length=60, unique=True)),
                        ('siren', models.CharField(blank=True, default='', max_length=9, validators=[schemes.models._siren_digits])),
                        ('reference_prefix', models.CharField(blank=True, default='', help_text='Vide : références GU-2026-00042. Renseigné (par exemple ALB) : GU-ALB-2026-00042 pour les nouveaux dossiers du territoire.', max_length=10, validators=[django.core.validators.RegexValidator('^[A-Z0-9]{2,5}$', 'Le préfixe des références compte 2 à 5 lettres majuscules sans accent ou chiffres (par exemple ALB).')], verbose_name='préfixe des références')),
                    ],
                    options={
                        'verbose_name': 'territoire',
                        'db_table': 'cases_territory',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='Commune',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('insee', models.CharField(max_length=5, unique=True)),
                        ('name', models.CharField(max_length=160)),
                        ('population', models.PositiveIntegerField()),
                        ('epci', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='communes', to='schemes.epci')),
                    ],
                    options={
                        'db_table': 'cases_commune',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Scheme',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=20, unique=True)),
                        ('name', models.CharField(max_length=160)),
                        ('flow_kind', models.CharField(choices=[('standard', 'Standard'), ('leader', 'LEADER (comité de programmation)')], default='standard', max_length=20)),
                        ('committee', models.BooleanField(default=False, verbose_name='passe en comité LEADER')),
                        ('is_feader', models.BooleanField(default=False, verbose_name='fonds européen (FEADER)')),
                        ('active', models.BooleanField(default=True)),
                        ('description', models.TextField(blank=True, default='')),
                        ('rate_min', models.DecimalField(decimal_places=4, default=0, max_digits=5, verbose_name='taux minimal')),
                        ('rate_max', models.DecimalField(decimal_places=4, default=1, max_digits=5, verbose_name='taux maximal')),
                        ('public_aid_ceiling', models.DecimalField(decimal_places=4, default=Decimal('0.80'), max_digits=5, verbose_name="plafond d'aides publiques (part du coût éligible)")),
                        ('min_amount', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='aide minimale (€)')),
                        ('national_match_ratio', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='FEADER ≤ n × contreparties publiques nationales')),
                        ('envelope', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='enveloppe (€)')),
                        ('required_documents', models.JSONField(blank=True, default=list, help_text='[{"code": …, "label": …}]', verbose_name='pièces obligatoires')),
                        ('completeness_months', models.PositiveSmallIntegerField(blank=True, default=3, null=True)),
                        ('documents_days', models.PositiveSmallIntegerField(default=30, verbose_name='délai de production des pièces (jours)')),
                        ('implicit_decision_months', models.PositiveSmallIntegerField(blank=True, default=2, null=True)),
                        ('works_start_months', models.PositiveSmallIntegerField(default=24)),
                        ('works_start_from', models.CharField(choices=[('grant', 'Notification de la décision'), ('commit', 'Signature de la convention')], default='grant', max_length=10)),
                        ('works_start_extension_months', models.PositiveSmallIntegerField(default=12)),
                        ('completion_months', models.PositiveSmallIntegerField(default=48, verbose_name='achèvement (mois après le début ou la convention)')),
                        ('completion_from', models.CharField(choices=[('start', 'Début des travaux'), ('commit', 'Signature de la convention')], default='start', max_length=10)),
                        ('balance_claim_months', models.PositiveSmallIntegerField(default=6, verbose_name="demande de solde (mois après l'achèvement)")),
                        ('reminder_offsets', models.JSONField(default=schemes.models.default_reminder_offsets, verbose_name="rappels (jours avant l'échéance)")),
                        ('advance_max_rate', models.DecimalField(blank=True, decimal_places=4, max_digits=5, null=True, verbose_name='avance maximale')),
                        ('installments_max_rate', models.DecimalField(decimal_places=4, default=Decimal('0.80'), max_digits=5, verbose_name='avance + acomptes avant le solde')),
                        ('balance_requires_completion', models.BooleanField(default=True)),
                        ('expected_payment_delay_days', models.PositiveSmallIntegerField(default=60)),
                        ('grid', models.JSONField(blank=True, default=schemes.models.default_grid, help_text='[{"code": …, "label": …, "max": points}]', verbose_name='grille de sélection')),
                        ('grid_min_score', models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True)),
                        ('quorum_rate', models.DecimalField(decimal_places=4, default=Decimal('0.50'), max_digits=5)),
                        ('max_group_share', models.DecimalField(decimal_places=4, default=Decimal('0.49'), max_digits=5, verbose_name="part maximale d'un groupe d'intérêt")),
                        ('funder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='schemes', to='schemes.funder')),
                    ],
                    options={
                        'verbose_name': 'dispositif',
                        'db_table': 'workflows_scheme',
                        'ordering': ['code'],
                    },
                ),
                migrations.AddField(
                    model_name='epci',
                    name='territory',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='epcis', to='schemes.territory'),
                ),
            ],
        ),
        migrations.RunPython(content_types_forwards, content_types_backwards),
    ]
