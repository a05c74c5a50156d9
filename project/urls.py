from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from connectors.api import handout_view
from connectors.api.endpoints import api

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Django's set_language view, behind the language menu of every admin page.
    path("i18n/", include("django.conf.urls.i18n")),
    # The JavaScript strings of connectors/static in the reader's language, loaded as an external
    # script (the Content-Security-Policy allows no inline script).
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["connectors"]), name="javascript-catalog"),
    # The callback URL registered at providers; connectors/core/callback.py builds its public form.
    path("oauth/", include("connectors.web.urls")),
    # The token API for other services (README, API); its OpenAPI document is /api/v1/openapi.json.
    # The token handout, the API's hot path, answered by a plain view (connectors/api/handout_view.py);
    # the OpenAPI document still describes it with the routes of api.urls.
    path("api/v1/connections/<int:connection_id>/token", handout_view.obtain_token),
    path("api/v1/", api.urls),
]
