"""Admin of the Démarches Simplifiées link: démarches (with their mapping and last report),
imports (read only) and pushes (read only, with « send again »). Registered by
``cases.admin``; a staff account that is not a superuser sees its territory's only."""

from __future__ import annotations

from django.contrib import admin, messages

from ..models import DsDemarche, DsImport, DsPush
from ..tasks import demarche_import_locked
from .pushback import push_send


def _scoped(request, queryset, path: str):
    user = request.user
    if user.is_superuser:
        return queryset
    return queryset.filter(**{path: user.territory_id})


@admin.register(DsDemarche)
class DsDemarcheAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "groupe_instructeur",
        "label",
        "scheme",
        "active",
        "push_back",
        "last_run_at",
    )
    readonly_fields = ("synced_at", "last_run_at", "last_report", "cursor")
    actions = ["import_now"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return _scoped(request, qs, "agent__territory_id")

    @admin.action(description="Importer maintenant les dossiers DS")
    def import_now(self, request, queryset):
        for demarche in queryset.select_related("agent", "scheme"):
            report = demarche_import_locked(demarche)
            if report is None:
                self.message_user(request, f"{demarche} : import déjà en cours.", messages.WARNING)
                continue
            level = messages.WARNING if report.error or report.count("failed") else messages.INFO
            self.message_user(request, report.summary(), level)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DsImport)
class DsImportAdmin(ReadOnly):
    list_display = ("demarche", "ds_number", "status", "ds_state", "case", "reason", "updated_at")
    list_filter = ("status", "demarche")
    search_fields = ("=ds_number", "case__reference")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("demarche", "case")
        return _scoped(request, qs, "demarche__agent__territory_id")


@admin.register(DsPush)
class DsPushAdmin(ReadOnly):
    list_display = ("ds_import", "action", "status", "attempts", "error", "sent_at")
    list_filter = ("status", "action")
    actions = ["send_again"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("ds_import__demarche")
        return _scoped(request, qs, "ds_import__demarche__agent__territory_id")

    @admin.action(description="Renvoyer à DS (après correction du jeton ou de l'instructeur)")
    def send_again(self, request, queryset):
        again = queryset.filter(status=DsPush.Status.FAILED)
        ids = list(again.values_list("pk", flat=True))
        again.update(status=DsPush.Status.PENDING, attempts=0)
        for push_id in ids:
            push_send(push_id=push_id)
        self.message_user(request, f"{len(ids)} renvoi(s) tenté(s).")
