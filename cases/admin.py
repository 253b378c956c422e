from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    EPCI,
    Case,
    CommitteeDecision,
    CommitteeSession,
    Commune,
    Document,
    ExpenseLine,
    FundingRequest,
    Opinion,
    Organisation,
    Payment,
    PaymentClaim,
    ResourceLine,
    User,
    Vote,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "Guichet",
            {"fields": ("role", "organisation", "epci", "funder", "college", "interest_group")},
        ),
    )
    list_display = ("username", "email", "role", "organisation", "is_active")
    list_filter = ("role", "is_active")


@admin.register(EPCI)
class EPCIAdmin(admin.ModelAdmin):
    list_display = ("name", "siren")


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("name", "insee", "population", "epci")
    list_filter = ("epci",)
    search_fields = ("name", "insee")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "siren", "commune")
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
class CaseAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "organisation", "state", "receipt_date")
    list_filter = ("state", "epci")
    search_fields = ("reference", "title", "organisation__name")
    readonly_fields = ("state",)
    inlines = [ExpenseInline, ResourceInline, FundingRequestInline]


@admin.register(FundingRequest)
class FundingRequestAdmin(admin.ModelAdmin):
    list_display = ("case", "scheme", "state", "amount_requested", "amount_granted")
    list_filter = ("scheme", "state")
    readonly_fields = ("state",)


@admin.register(PaymentClaim)
class PaymentClaimAdmin(admin.ModelAdmin):
    list_display = ("funding_request", "kind", "amount", "state", "filed_on", "paid_on")
    list_filter = ("kind", "state")
    readonly_fields = ("state",)


for model in (Payment, Document, Opinion, Vote, CommitteeDecision):
    admin.site.register(model)


@admin.register(CommitteeSession)
class CommitteeSessionAdmin(admin.ModelAdmin):
    list_display = ("date", "scheme", "state")
    readonly_fields = ("state",)
