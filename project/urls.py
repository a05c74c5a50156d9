from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Partner Connections"
admin.site.site_title = "Partner Connections"
admin.site.index_title = "Connections to partner APIs"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # The callback URL registered at providers; connectors/callback.py builds its public form.
    path("oauth/", include("connectors.urls")),
]
