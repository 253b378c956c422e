from django.contrib import admin

from .models import Deadline, OutboxEvent


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject_type", "subject_id", "due_on", "party", "state")
    list_filter = ("kind", "state", "party")
    date_hierarchy = "due_on"


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("topic", "subject_type", "subject_id", "created_at", "processed_at")
    list_filter = ("topic",)
