"""The callback (redirect) URLs that operators register at providers: one per connection.

A redirect URI of its own per connection is the mix-up defence of RFC 9700 §4.4: an answer from
one connection's authorization server can only ever arrive at that connection's callback, and
the callback refuses a state issued for another connection. The old shared URL
(`/oauth/callback/`) still completes authorizations that were started with it.
"""

from connectors.core.app_settings import app_settings

CALLBACK_PATH = "oauth/callback/"


def callback_url(connection=None):
    """The connection's own callback URL (the shared one for no connection, or an unsaved one).
    Built from the configured public address, never from the request's Host header."""
    base = f"{app_settings.PUBLIC_BASE_URL}/{CALLBACK_PATH}"
    if connection is not None and connection.pk:
        return f"{base}{connection.pk}/"
    return base
