"""Routes of the calls for projects' pages (issue 14 point 5): the list, a call's agenda."""

from django.urls import path

from . import calls

urlpatterns = [
    path("appels-a-projets/", calls.call_list, name="calls"),
    path("appels-a-projets/<int:pk>/", calls.call_page, name="call"),
]
