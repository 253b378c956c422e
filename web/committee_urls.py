"""Routes of the committee pages (owned by that area's module)."""

from django.urls import path

from . import views

urlpatterns = [
    path("committee-placeholder/", views.placeholder, name="committee-placeholder"),
]
