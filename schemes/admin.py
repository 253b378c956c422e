"""Admin of the reference data: funders and schemes (« Dispositifs »: their parameters are
data, edited here), the territories, their EPCI and communes."""

from django.contrib import admin

from .models import EPCI, Commune, Funder, Scheme, Territory


@admin.register(Funder)
class FunderAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "funder", "flow_kind", "committee", "active")
    list_filter = ("funder", "flow_kind", "active")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "funder",
                    "flow_kind",
                    "committee",
                    "is_feader",
                    "active",
                    "description",
                    "envelope",
                )
            },
        ),
        (
            "Plan de financement",
            {
                "fields": (
                    "rate_min",
                    "rate_max",
                    "public_aid_ceiling",
                    "min_amount",
                    "national_match_ratio",
                )
            },
        ),
        ("Pièces", {"fields": ("required_documents",)}),
        (
            "Délais",
            {
                "fields": (
                    "completeness_months",
                    "documents_days",
                    "implicit_decision_months",
                    "works_start_months",
                    "works_start_from",
                    "works_start_extension_months",
                    "completion_months",
                    "completion_from",
                    "balance_claim_months",
                    "reminder_offsets",
                )
            },
        ),
        (
            "Paiements",
            {
                "fields": (
                    "advance_max_rate",
                    "installments_max_rate",
                    "balance_requires_completion",
                    "expected_payment_delay_days",
                )
            },
        ),
        ("Comité LEADER", {"fields": ("grid", "grid_min_score", "quorum_rate", "max_group_share")}),
    )


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "siren", "reference_prefix")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(EPCI)
class EPCIAdmin(admin.ModelAdmin):
    list_display = ("name", "siren", "territory")
    list_filter = ("territory",)


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("name", "insee", "population", "epci")
    list_filter = ("epci",)
    search_fields = ("name", "insee")
