"""Each way a partner can fail gives its own sentence naming what to fix, and leaves what is
stored as it was. Real servers answer where they can (the local authorization server); the
faults no real server produces on demand come from the tests' own misbehaving server."""

import socket

import pytest
from django.utils import timezone

from connectors.models import Connection, HypatosConnection, Status
from connectors.store import display
from connectors.store.health import Health, health_of
from tests.connections import make_hypatos, make_invenias, make_inverbis

pytestmark = pytest.mark.django_db

STORED_TOKEN = "stored-access-token-that-must-survive"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What a test of the saved settings records besides the tokens: its outcome, and what its token
# request meant for renewals (a refusal, a backoff: connectors/health.py's decision table).
RECORDED = {
    "last_test_at",
    "last_test_passed",
    "last_test_message",
    "last_test_sentence",
    "updated_at",
    "next_renewal_at",
    "renewal_failing_since",
    "renewal_attempts",
    "renewal_alerted_at",
    "refused_at",
    "refusal",
}


def snapshot(connection):
    connection = Connection.objects.get(pk=connection.pk).specific
    ignored = RECORDED
    return {f.name: getattr(connection, f.name) for f in connection._meta.fields if f.name not in ignored}


def run_saved_test(admin_client, connection):
    model = connection._meta.model_name
    response = admin_client.post(
        f"/admin/connectors/{model}/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    return response.json()


def hypatos_with_token_url(auth_server, token_url):
    connection = make_hypatos(auth_server, token_url=token_url)
    connection.access_token = STORED_TOKEN
    connection.token_expires_at = timezone.now() + timezone.timedelta(hours=1)
    connection.status = Status.AUTHORIZED
    connection.save()
    return connection


FAULTS = [
    # (token URL path on the fault server, expected kind-specific words, HTTP status)
    ("/invalid-client", "client ID or client secret", 401),
    ("/invalid-scope", "Scope", 400),
    ("/unauthorized-client", "may not use the client credentials grant", 400),
    ("/429", "limiting the number of requests", 429),
    ("/500", "internal error", 500),
    ("/503", "internal error", 503),
    ("/html", "not JSON", 200),
    ("/bad-json", "not JSON", 200),
    ("/no-token", "without an access token", 200),
    ("/redirect", "redirect (HTTP 302), which is not followed", 302),
    ("/huge", "larger than", None),
]


@pytest.mark.parametrize("path,words,status", FAULTS)
def test_token_step_faults(admin_client, auth_server, fault_server, path, words, status):
    connection = hypatos_with_token_url(auth_server, fault_server.url(path))
    before = snapshot(connection)
    result = run_saved_test(admin_client, connection)
    assert not result["passed"]
    assert result["step"] == "token"
    assert words in result["message"], result["message"]
    assert result["status"] == status
    assert snapshot(connection) == before
    connection.refresh_from_db()
    assert connection.last_test_passed is False and words in connection.last_test_message


def test_redirect_is_not_followed(admin_client, auth_server, fault_server):
    fault_server.reset()
    connection = hypatos_with_token_url(auth_server, fault_server.url("/redirect"))
    run_saved_test(admin_client, connection)
    assert len(fault_server.requests_to("/token-ok")) == 0


def test_rate_limit_is_not_retried(admin_client, auth_server, fault_server):
    fault_server.reset()
    connection = hypatos_with_token_url(auth_server, fault_server.url("/429"))
    result = run_saved_test(admin_client, connection)
    assert "wait" in result["message"]
    assert len(fault_server.requests_to("/429")) == 1


# No answer at all, and headers in time but a body that stops arriving.
@pytest.mark.parametrize("path", ["/slow", "/stall-body"])
def test_timeout(admin_client, auth_server, fault_server, settings, path):
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "HTTP_TIMEOUT": 1}
    connection = hypatos_with_token_url(auth_server, fault_server.url(path))
    before = snapshot(connection)
    result = run_saved_test(admin_client, connection)
    assert not result["passed"] and "did not answer within 1 second:" in result["message"]
    assert snapshot(connection) == before


def test_connection_refused(admin_client, auth_server):
    connection = hypatos_with_token_url(auth_server, f"http://127.0.0.1:{free_port()}/v2/auth/token")
    result = run_saved_test(admin_client, connection)
    assert "connection refused" in result["message"] and result["step"] == "token"


def test_unknown_host(admin_client, auth_server, settings):
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": ["127.0.0.1:1-65535", "*.invalid"],
    }
    connection = hypatos_with_token_url(auth_server, "https://no-such-host.invalid/v2/auth/token")
    result = run_saved_test(admin_client, connection)
    assert "cannot be found" in result["message"] and "no-such-host.invalid" in result["message"]


def test_tls_failure(admin_client, auth_server, fault_server):
    # https to a server that speaks plain http: the TLS handshake fails.
    connection = hypatos_with_token_url(auth_server, fault_server.url("/token-ok").replace("http://", "https://"))
    result = run_saved_test(admin_client, connection)
    assert "TLS" in result["message"]


def test_wrong_password_names_username_or_password(admin_client, auth_server):
    connection = make_invenias(auth_server, password="wrong password")
    before = snapshot(connection)
    result = run_saved_test(admin_client, connection)
    assert not result["passed"] and result["step"] == "token"
    assert "username or password" in result["message"]
    assert snapshot(connection) == before


def test_wrong_client_secret_at_the_real_server(admin_client, auth_server):
    connection = make_hypatos(auth_server, client_secret="wrong")
    result = run_saved_test(admin_client, connection)
    assert "client ID or client secret" in result["message"]


def test_scope_the_client_may_not_have_is_invalid_scope(admin_client, auth_server):
    connection = make_hypatos(
        auth_server,
        client_id=auth_server.hypatos_limited_client_id,
        client_secret=auth_server.hypatos_limited_client_secret,
        scope="projects.read",
    )
    result = run_saved_test(admin_client, connection)
    assert "invalid_scope" in result["message"]


def test_server_error_on_refresh_keeps_the_tokens(auth_server, fault_server):
    connection = make_inverbis(auth_server, token_url=fault_server.url("/500"))
    connection.access_token, connection.refresh_token = "old-access", "old-refresh"
    connection.token_expires_at = timezone.now()
    connection.status = Status.AUTHORIZED
    connection.save()
    with pytest.raises(Exception, match="internal error"):
        connection.get_access_token()
    connection.refresh_from_db()
    assert (connection.access_token, connection.refresh_token, connection.status) == (
        "old-access",
        "old-refresh",
        Status.AUTHORIZED,
    )
    assert connection.events.filter(action="refresh failed", succeeded=False).exists()


def test_missing_expires_in_gets_the_default_lifetime(auth_server, fault_server, settings):
    from connectors.engine import tokens

    connection = make_hypatos(auth_server)
    tokens.store_token(connection, {"access_token": "a"})
    lifetime = (connection.token_expires_at - connection.token_obtained_at).total_seconds()
    assert lifetime == settings.PARTNER_CONNECTIONS.get("DEFAULT_EXPIRES_IN", 300)


def test_secrets_never_appear_in_results_or_events(admin_client, auth_server, fault_server):
    connection = hypatos_with_token_url(auth_server, fault_server.url("/invalid-client"))
    result = run_saved_test(admin_client, connection)
    text = repr(result) + " ".join(connection.events.values_list("detail", flat=True))
    assert auth_server.hypatos_client_secret not in text and STORED_TOKEN not in text
    # The fault server saw the secret in the Basic header, as HTTP Basic requires.
    assert HypatosConnection.objects.get(pk=connection.pk).client_secret == auth_server.hypatos_client_secret


@pytest.mark.parametrize("expires_in", [1e400, 10**13, -5, "soon", None])
def test_absurd_or_missing_expires_in_gets_the_default(auth_server, expires_in):
    from connectors.engine import tokens

    connection = make_hypatos(auth_server)
    tokens.store_token(connection, {"access_token": "a", "expires_in": expires_in})
    assert (connection.token_expires_at - connection.token_obtained_at).total_seconds() == 300


def test_test_of_an_edited_form_never_sends_the_stored_token_to_a_new_host(admin_client, auth_server, settings):
    from tests.connections import inverbis_form

    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": ["127.0.0.1:1-65535", "localhost:1-65535"],
    }
    connection = make_inverbis(auth_server)
    connection.access_token, connection.token_expires_at = STORED_TOKEN, timezone.now() + timezone.timedelta(hours=1)
    connection.status = Status.AUTHORIZED
    connection.save()
    moved = {
        key: value.replace("127.0.0.1", "localhost") if isinstance(value, str) else value
        for key, value in inverbis_form(auth_server).items()
    }
    response = admin_client.post(
        f"/admin/connectors/inverbisconnection/{connection.pk}/test-connection/", moved, HTTP_ACCEPT="application/json"
    )
    result = response.json()
    # Nothing was sent: not tested, rather than failed (connectors/health.py: NOT_SENT).
    assert not result["passed"] and result["step"] == "settings" and result["headline"] == "Not tested"
    assert "another host" in result["message"]
    assert Connection.objects.get(pk=connection.pk).access_token == STORED_TOKEN


def test_failed_password_renewal_says_username_or_password(auth_server):
    connection = make_invenias(auth_server, password="wrong password")
    connection.access_token, connection.token_expires_at = STORED_TOKEN, timezone.now()
    connection.save()
    with pytest.raises(Exception, match="username or password"):
        connection.get_access_token()
    connection.refresh_from_db()
    # A refused password is a refusal of the settings: the fields to fix are named, and
    # Regenerate with the same password would only be refused again.
    assert health_of(connection).code == Health.REFUSED
    assert connection.refusal["fields"] == ["username", "password"]
    assert "username or password" in str(display.refusal_in_words(connection))
    assert display.next_action(connection) == ("settings", "Fix settings")
    assert connection.events.filter(action="token request failed").exists()


def test_new_authorization_without_refresh_token_drops_the_old_one(auth_server):
    from connectors.engine import tokens

    connection = make_inverbis(auth_server, refresh_token="from-the-previous-authorization")
    tokens.store_token(connection, {"access_token": "new", "expires_in": 60}, new_authorization=True)
    assert connection.refresh_token == ""
    connection.refresh_token = "current"
    tokens.store_token(connection, {"access_token": "refreshed", "expires_in": 60})
    assert connection.refresh_token == "current"  # a refresh answer without one keeps it


def test_test_connection_on_the_add_page_without_a_form(admin_client):
    response = admin_client.post("/admin/connectors/hypatosconnection/test-connection/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["step"] == "settings"


def test_bulk_run_survives_an_unexpected_error(auth_server, monkeypatch):
    # A programming error is not a fault a server can produce: this one is injected.
    from connectors.engine import diagnostics, runner

    good, bad = make_hypatos(auth_server), make_hypatos(auth_server, name="Broken")
    real = diagnostics.run_test

    def flaky(connection, **kwargs):
        if connection.pk == bad.pk:
            raise RuntimeError("boom")
        return real(connection, **kwargs)

    monkeypatch.setattr(diagnostics, "run_test", flaky)
    results = dict((c.pk, r) for c, r in runner.test_connections([good, bad], workers=1))
    assert results[good.pk].passed
    assert not results[bad.pk].passed and "RuntimeError" in results[bad.pk].message
