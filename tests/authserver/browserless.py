"""Walk this server's login and consent pages with ``requests``, like a user would.

Given the authorization URL an application produced, follow it to the login
form, sign in (CSRF token included), answer the consent form, and return the
redirect back to the application *without* following it, so the test decides
when (and whether) the application's callback is called. No Django import.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

LOGIN_FORM_ID = "login-form"
CONSENT_FORM_ID = "authorizationForm"


class AuthorizeError(RuntimeError):
    """The walk did not end in a redirect back to the application."""


class _FormParser(HTMLParser):
    """Collects each <form>'s id, action and named <input> values (not buttons)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"id": attrs.get("id"), "action": attrs.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type", "text") not in ("submit", "button", "image"):
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def _forms(html):
    parser = _FormParser()
    parser.feed(html)
    return {form["id"]: form for form in parser.forms}


def _origin(url):
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc)


def authorize(auth_url, username, password, allow=True, timeout=10, max_steps=10):
    """Return the Location the server finally redirects to outside itself.

    That is the application's callback URL with ``code`` and ``state``, or
    with ``error=access_denied`` when ``allow`` is false. Raises
    AuthorizeError on a refused login, an error page or an unexpected page.
    """
    server = _origin(auth_url)
    with requests.Session() as session:
        response = session.get(auth_url, allow_redirects=False, timeout=timeout)
        logged_in = False
        for _ in range(max_steps):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if _origin(location) != server:
                    return location
                response = session.get(location, allow_redirects=False, timeout=timeout)
                continue
            if response.status_code != 200:
                raise AuthorizeError(f"HTTP {response.status_code} at {response.url}: {response.text[:500]}")
            forms = _forms(response.text)
            if LOGIN_FORM_ID in forms:
                if logged_in:
                    raise AuthorizeError(f"login refused for user {username!r}")
                logged_in = True
                form = forms[LOGIN_FORM_ID]
                data = {**form["fields"], "username": username, "password": password}
            elif CONSENT_FORM_ID in forms:
                form = forms[CONSENT_FORM_ID]
                # DOT's AllowForm: consent is the presence of "allow".
                data = {**form["fields"], **({"allow": "Allow"} if allow else {"deny": "Deny"})}
            else:
                raise AuthorizeError(f"unexpected page at {response.url}: {response.text[:500]}")
            response = session.post(
                urljoin(response.url, form["action"]), data=data, allow_redirects=False, timeout=timeout
            )
        raise AuthorizeError(f"no redirect back to the application after {max_steps} steps")
