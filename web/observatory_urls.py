"""Routes of the observatory pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("observatory-placeholder/", views.placeholder, name="observatory-placeholder"),
]
