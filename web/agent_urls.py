"""Routes of the agent pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("agent-placeholder/", views.placeholder, name="agent-placeholder"),
]
