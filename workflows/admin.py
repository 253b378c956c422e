from django.contrib import admin

from .models import Funder, Scheme


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
