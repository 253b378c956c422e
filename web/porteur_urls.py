"""Routes of the porteur pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("porteur-placeholder/", views.placeholder, name="porteur-placeholder"),
]
