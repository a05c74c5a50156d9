"""The one callback (redirect) URL that operators register at providers."""

from .app_settings import app_settings

CALLBACK_PATH = "oauth/callback/"


def callback_url():
    # Built from the configured public address, never from the request's Host header.
    return f"{app_settings.PUBLIC_BASE_URL}/{CALLBACK_PATH}"
