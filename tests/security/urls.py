"""The project's URLs plus the document download view, for the tests that exercise it
through the whole middleware chain before its area routes it."""

from django.urls import path

from guichet.urls import handler404  # noqa: F401
from guichet.urls import urlpatterns as project_urlpatterns
from web.documents import document_download

urlpatterns = [
    path("test-documents/<int:pk>/", document_download, name="test-document-download"),
    *project_urlpatterns,
]
