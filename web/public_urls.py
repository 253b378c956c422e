"""Routes of the public pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("public-placeholder/", views.placeholder, name="public-placeholder"),
]
