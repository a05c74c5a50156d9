"""Origins, not hosts: another scheme, host or port is another place, so stored secrets and tokens
do not follow a URL moved to another port of an allowed host; EXTRA_ALLOWED_HOSTS entries may pin
a port; an unsaved test is on the record with the URLs it used."""

import pytest
from django.utils import timezone

from connectors.core import validators
from connectors.models import Connection, HypatosConnection, Status
from tests.connections import hypatos_form, inverbis_form, make_hypatos, make_inverbis

pytestmark = pytest.mark.django_db

STORED_TOKEN = "stored-token-that-must-stay-home"


def test_origin_is_scheme_host_and_effective_port():
    assert validators.origin_of("https://a.example/x") == ("https", "a.example", 443)
    assert validators.origin_of("https://a.example:443/y") == validators.origin_of("https://A.example/x")
    assert validators.origin_of("https://a.example:8443/x") != validators.origin_of("https://a.example/x")
    assert validators.origin_of("http://a.example/x") != validators.origin_of("https://a.example/x")
    assert validators.origin_of("https://a.example:99999/x") is None


def test_an_extra_host_entry_may_pin_a_port():
    allows = validators.extra_host_allows
    assert allows(["127.0.0.1:8765"], "127.0.0.1", 8765)
    assert not allows(["127.0.0.1:8765"], "127.0.0.1", 8766)
    # No port: the scheme's default port only (issue 16); other ports are named, one or a range.
    assert not allows(["127.0.0.1"], "127.0.0.1", 8766)
    assert allows(["127.0.0.1"], "127.0.0.1", 443) and allows(["127.0.0.1"], "127.0.0.1", 80, default_port=80)
    assert allows(["127.0.0.1:8000-8999"], "127.0.0.1", 8766)
    assert not allows(["127.0.0.1:8000-8999"], "127.0.0.1", 9000)
    assert allows(["*.sandbox.example:443"], "eu.sandbox.example", 443)
    assert not allows(["*.sandbox.example:443"], "eu.sandbox.example", 8443)


def test_a_pinned_port_refuses_the_other_ports_on_the_form(admin_client, auth_server, fault_server, settings):
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": [f"127.0.0.1:{auth_server.port}"],
    }
    ok = admin_client.post("/admin/connectors/hypatosconnection/add/", hypatos_form(auth_server))
    assert ok.status_code == 302
    moved = hypatos_form(auth_server, name="Elsewhere", token_url=fault_server.url("/token-ok"))
    response = admin_client.post("/admin/connectors/hypatosconnection/add/", moved)
    assert "token_url" in response.context["adminform"].form.errors


def stored_hypatos(auth_server):
    connection = make_hypatos(auth_server)
    connection.access_token, connection.status = STORED_TOKEN, Status.AUTHORIZED
    connection.token_expires_at = timezone.now() + timezone.timedelta(hours=1)
    connection.save()
    return connection


def test_a_port_change_asks_for_the_secret_again(admin_client, auth_server, fault_server):
    connection = stored_hypatos(auth_server)
    moved = hypatos_form(auth_server, client_secret="", token_url=fault_server.url("/token-ok"))
    response = admin_client.post(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", moved)
    errors = response.context["adminform"].form.errors
    assert "another host or port" in errors["client_secret"][0]
    assert HypatosConnection.objects.get(pk=connection.pk).token_url == auth_server.hypatos_token_url


def test_an_unsaved_test_on_another_port_sends_no_stored_secret(admin_client, auth_server, fault_server):
    connection = stored_hypatos(auth_server)
    fault_server.reset()
    moved = hypatos_form(auth_server, client_secret="", token_url=fault_server.url("/token-ok"))
    response = admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", moved, HTTP_ACCEPT="application/json"
    )
    result = response.json()
    assert not result["passed"] and result["step"] == "settings"
    assert "another host or port" in result["message"]
    assert fault_server.request_count == 0


def test_a_stored_token_does_not_follow_a_port_change(admin_client, auth_server, fault_server):
    connection = make_inverbis(auth_server)
    connection.access_token, connection.status = STORED_TOKEN, Status.AUTHORIZED
    connection.token_expires_at = timezone.now() + timezone.timedelta(hours=1)
    connection.save()
    fault_server.reset()
    moved = {**inverbis_form(auth_server), "token_url": fault_server.url("/token-ok")}
    response = admin_client.post(
        f"/admin/connectors/inverbisconnection/{connection.pk}/test-connection/", moved, HTTP_ACCEPT="application/json"
    )
    result = response.json()
    assert not result["passed"] and "another host or port" in result["message"]
    assert fault_server.request_count == 0
    assert Connection.objects.get(pk=connection.pk).access_token == STORED_TOKEN


def test_an_unsaved_test_is_recorded_with_the_urls_it_used(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    edited = hypatos_form(auth_server, scope="projects.read")
    response = admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", edited, HTTP_ACCEPT="application/json"
    )
    assert response.json()["passed"]
    event = connection.events.get(action="tested unsaved")
    assert auth_server.hypatos_token_url in event.detail
    assert f"{auth_server.hypatos_endpoint}/projects" in event.detail
    assert auth_server.hypatos_client_secret not in event.detail
    connection.refresh_from_db()
    assert connection.last_test_at is None  # the saved connection's outcome is not overwritten
