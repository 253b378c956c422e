"""Django admin. A staff account that is not a superuser works on its territory's rows
only (``TerritoryScoped``): the lists, the search and the change pages go through the same
scope as ``cases.selectors``."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import selectors
from .ds import admin as _ds_admin  # noqa: F401  (registers the Démarches Simplifiées admin)
from .models import (
    Case,
    CommitteeDecision,
    CommitteeSession,
    ConferencePosition,
    ConferenceSession,
    Document,
    ExpenseLine,
    FundingRequest,
    Opinion,
    Organisation,
    Payment,
    PaymentClaim,
    ResourceLine,
    Scenario,
    ScenarioItem,
    Theme,
    User,
    Vote,
)
from .services.themes import theme_save


class TerritoryScoped:
    """``territory_field``: the path from the model to its territory."""

    territory_field = "territory_id"

    def get_queryset(self, request):
        return selectors.in_territory(
            super().get_queryset(request), request.user, field=self.territory_field
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = selectors.organisation_list(user=request.user)
        elif db_field.name == "epci":
            kwargs["queryset"] = selectors.epci_list(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        located = any(getattr(obj, f, None) for f in ("epci_id", "commune_id", "organisation_id"))
        if not change and not located and getattr(obj, "territory_id", 0) is None:
            obj.territory_id = request.user.territory_id  # else from its EPCI (model.save)
        super().save_model(request, obj, form, change)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "Guichet",
            {
                "fields": (
                    "role",
                    "territory",
                    "organisation",
                    "epci",
                    "funder",
                    "college",
                    "interest_group",
                )
            },
        ),
    )
    list_display = ("username", "email", "role", "territory", "organisation", "is_active")
    list_filter = ("role", "territory", "is_active")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=selectors.account_list(user=request.user).values("pk"))
        )


@admin.register(Organisation)
class OrganisationAdmin(TerritoryScoped, admin.ModelAdmin):
    list_display = ("name", "kind", "siren", "commune", "territory")
    list_filter = ("kind",)
    search_fields = ("name", "siren")


class ExpenseInline(admin.TabularInline):
    model = ExpenseLine
    extra = 0


class ResourceInline(admin.TabularInline):
    model = ResourceLine
    extra = 0


class FundingRequestInline(admin.TabularInline):
    model = FundingRequest
    extra = 0
    fields = ("scheme", "state", "amount_requested", "amount_granted", "amount_paid")
    readonly_fields = fields
    can_delete = False


@admin.register(Case)
class CaseAdmin(TerritoryScoped, admin.ModelAdmin):
    list_display = ("reference", "title", "organisation", "state", "receipt_date", "territory")
    list_filter = ("state", "epci")
    search_fields = ("reference", "title", "organisation__name")
    readonly_fields = ("state",)
    inlines = [ExpenseInline, ResourceInline, FundingRequestInline]


@admin.register(FundingRequest)
class FundingRequestAdmin(TerritoryScoped, admin.ModelAdmin):
    territory_field = "case__territory_id"
    list_display = ("case", "scheme", "state", "amount_requested", "amount_granted")
    list_filter = ("scheme", "state")
    readonly_fields = ("state",)


@admin.register(PaymentClaim)
class PaymentClaimAdmin(TerritoryScoped, admin.ModelAdmin):
    territory_field = "funding_request__case__territory_id"
    list_display = ("funding_request", "kind", "amount", "state", "filed_on", "paid_on")
    list_filter = ("kind", "state")
    readonly_fields = ("state",)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    """The controlled list of themes: a rename also renames the dossiers' label
    (``cases.services.themes.theme_save``)."""

    list_display = ("label", "slug", "active", "order")
    list_editable = ("active", "order")
    search_fields = ("label", "slug")
    prepopulated_fields = {"slug": ("label",)}

    def save_model(self, request, obj, form, change):
        theme_save(obj)


for model in (Payment, Document, Opinion, Vote, CommitteeDecision):
    admin.site.register(model)


@admin.register(CommitteeSession)
class CommitteeSessionAdmin(TerritoryScoped, admin.ModelAdmin):
    list_display = ("date", "scheme", "state", "territory")
    readonly_fields = ("state",)


class ScenarioItemInline(admin.TabularInline):
    """What a programming scenario does with each request: drafted and applied from its
    page (``web.scenarios``), read here."""

    model = ScenarioItem
    extra = 0
    fields = ("funding_request", "choice", "amount", "outcome", "result")
    readonly_fields = fields
    can_delete = False


@admin.register(Scenario)
class ScenarioAdmin(TerritoryScoped, admin.ModelAdmin):
    list_display = ("title", "year", "territory", "created_by", "applied_at")
    list_filter = ("year",)
    readonly_fields = ("applied_at", "applied_by")
    inlines = [ScenarioItemInline]


class ConferencePositionInline(admin.TabularInline):
    model = ConferencePosition
    extra = 0
    fields = ("funding_request", "stance", "amount", "comment", "recorded_by")
    readonly_fields = fields
    can_delete = False


@admin.register(ConferenceSession)
class ConferenceSessionAdmin(TerritoryScoped, admin.ModelAdmin):
    list_display = ("date", "title", "territory")
    inlines = [ConferencePositionInline]
