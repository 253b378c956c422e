from django.contrib import admin

from .models import AccessLog, Deadline, OutboxEvent


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject_type", "subject_id", "due_on", "party", "state")
    list_filter = ("kind", "state", "party")
    date_hierarchy = "due_on"


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("topic", "subject_type", "subject_id", "created_at", "processed_at")
    list_filter = ("topic",)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """The access log is evidence: readable by administrators, never edited."""

    list_display = ("at", "username", "role", "action", "subject_type", "subject_id", "ip")
    list_filter = ("action", "role", "subject_type")
    search_fields = ("username", "=aggregate_id", "=subject_id", "ip")
    date_hierarchy = "at"
    list_select_related = ("subject_type",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
