"""Admin of the reference data: funders and schemes (« Dispositifs »: their parameters are
data, edited here), the territories, their EPCI and communes."""

from django.contrib import admin

from .models import EPCI, ActionSheet, Call, Commune, Envelope, Funder, LegalCase, Scheme, Territory


@admin.register(Funder)
class FunderAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_state", "siret")


@admin.register(LegalCase)
class LegalCaseAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "own_share_min", "source", "active")
    list_filter = ("active",)


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
                    "short_name",
                    "funder",
                    "flow_kind",
                    "committee",
                    "is_feader",
                    "active",
                    "description",
                    "sources",
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
                    "desk_instructs",
                    "eligibility_from",
                    "completeness_months",
                    "deemed_complete",
                    "documents_days",
                    "implicit_decision_months",
                    "implicit_decision_from",
                    "works_start_months",
                    "works_start_from",
                    "works_start_extension_months",
                    "completion_months",
                    "completion_from",
                    "completion_extension_months",
                    "balance_claim_months",
                    "programme_end",
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


@admin.register(ActionSheet)
class ActionSheetAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "scheme", "territory", "target_amount", "active")
    list_filter = ("territory", "scheme", "active")


@admin.register(Envelope)
class EnvelopeAdmin(admin.ModelAdmin):
    """The envelopes are typed here; their figures are computed (the API, the funders'
    page and the public page show them)."""

    list_display = ("scheme", "year", "territory", "action_sheet", "amount")
    list_filter = ("year", "scheme", "territory")


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("title", "scheme", "territory", "opens_on", "closes_on", "envelope", "active")
    list_filter = ("territory", "scheme", "selection", "active")
    search_fields = ("title",)
