"""Routes of the funders pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("funders-placeholder/", views.placeholder, name="funders-placeholder"),
]
