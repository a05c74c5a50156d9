from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from connectors.api.endpoints import api

admin.site.site_header = "Partner Connections"
admin.site.site_title = "Partner Connections"
admin.site.index_title = "Connections to partner APIs"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # The callback URL registered at providers; connectors/callback.py builds its public form.
    path("oauth/", include("connectors.urls")),
    # The token API for other services (README, API); its OpenAPI document is /api/v1/openapi.json.
    path("api/v1/", api.urls),
]
