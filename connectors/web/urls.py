from django.urls import path

from connectors.web.views import oauth_callback

urlpatterns = [
    # One callback URL per connection (connectors/core/callback.py); the shared one for older flows.
    path("callback/<int:connection_id>/", oauth_callback, name="oauth_callback_connection"),
    path("callback/", oauth_callback, name="oauth_callback"),
]
