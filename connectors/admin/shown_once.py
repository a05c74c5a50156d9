"""A new API key kept in the creating browser's session while its page is open, so that the page
can be a redirect after the POST (a reload shows the key again instead of submitting the form
anew) and the key still leaves the server only on that page.

It is encrypted with the field-encryption key (the session table never holds it readable),
expires after KEEP_SECONDS, and is dropped when the operator confirms having copied it."""

from cryptography.fernet import InvalidToken
from django.conf import settings

from connectors.core.encryption import crypter

SESSION_KEY = "connectors.new_api_key"
KEEP_SECONDS = 600


def keep(request, pk, raw_key):
    token = crypter(settings.FIELD_ENCRYPTION_KEY).encrypt(raw_key.encode()).decode()
    request.session[SESSION_KEY] = {"pk": pk, "key": token}


def read(request, pk):
    """The key created for `pk` in this session, or None (another key, expired, or confirmed)."""
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict) or stored.get("pk") != pk:
        return None
    try:
        return crypter(settings.FIELD_ENCRYPTION_KEY).decrypt(str(stored["key"]).encode(), ttl=KEEP_SECONDS).decode()
    except (InvalidToken, KeyError):
        forget(request)
        return None


def forget(request):
    request.session.pop(SESSION_KEY, None)
