from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from guichet.api.index import ApiIndexView
from guichet.api.urls import feed_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", ApiIndexView.as_view(), name="api-index"),
    path("api/v1/", include("guichet.api.urls")),
    path("", include(feed_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("web.urls")),
]

admin.site.site_header = "Administration du Guichet unique"
admin.site.site_title = "Guichet unique — administration"
admin.site.index_title = "Données du guichet"

handler404 = "guichet.api.views.not_found_view"
handler500 = "guichet.concurrency.server_error"
