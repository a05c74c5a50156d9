"""The change policy through every door (connectors/store/policy.py, docs/policy.md): a URL moved
to another origin, even another port of the same host, demands the secrets again and drops the
tokens, whether the form, the Import page, import_connections or the shell moved it; and no door
then sends a stored secret or token to the new place (the shell, Test Connection, the API).

Issue 16, found items 1 and 2: before the policy, an import compared hosts, not origins, and kept
the secrets and tokens of a connection moved to another port."""

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from connectors.core.token_state import Status
from connectors.models import Connection, GenericConnection, HypatosConnection
from tests.connections import make_generic, make_hypatos
from tests.security import doors

pytestmark = pytest.mark.django_db

STORED_TOKEN = "stored-access-token-that-stays-home"
STORED_REFRESH = "stored-refresh-token-that-stays-home"


@dataclass
class Context:
    admin_client: Client
    server: object
    tmp_path: Path


@pytest.fixture
def context(admin_client, auth_server, tmp_path):
    return Context(admin_client, auth_server, tmp_path)


def generic(server, **fields):
    """A generic connection as the admin saves it (its probe URL derived, so that only what a
    test moves is a move)."""
    return make_generic(server, probe_url=server.generic_userinfo_url, **fields)


def authorized(connection, refresh=""):
    connection.access_token, connection.refresh_token = STORED_TOKEN, refresh
    connection.status, connection.token_type = Status.AUTHORIZED, "Bearer"
    connection.token_obtained_at = timezone.now()
    connection.token_expires_at = timezone.now() + timezone.timedelta(hours=1)
    connection.save()
    return connection


@pytest.mark.parametrize("door", doors.MOVES)
def test_a_port_move_demands_the_secret_again_and_drops_the_token(door, context, auth_server, fault_server):
    connection = authorized(make_hypatos(auth_server))
    secret = auth_server.hypatos_client_secret
    fault_server.reset()

    doors.MOVES[door](context, connection, token_url=fault_server.url("/token-ok"))

    stored = HypatosConnection.objects.get(pk=connection.pk)
    if stored.token_url == auth_server.hypatos_token_url:
        # The form refuses the move until the secret is typed again: nothing changed.
        assert door == "form"
        assert stored.client_secret == secret and stored.access_token == STORED_TOKEN
    else:
        assert stored.client_secret == "", door
        assert (stored.access_token, stored.status) == ("", Status.NOT_AUTHORIZED), door
    doors.use_everywhere(context, connection)
    credentials = doors.basic_credentials(auth_server.hypatos_client_id, secret)
    assert doors.leaked(fault_server.requests, secret, credentials, STORED_TOKEN) == []


def test_the_form_names_the_secret_to_enter_again_and_saves_once_it_is(context, auth_server, fault_server):
    connection = authorized(make_hypatos(auth_server))
    moved = {"token_url": fault_server.url("/token-ok")}
    refused = doors.move_by_form(context, connection, **moved)
    assert "another host or port" in refused.context["adminform"].form.errors["client_secret"][0]
    # Typing the same secret again is a decision: it is kept, the token is not.
    data = doors.form_data(auth_server, connection, client_secret=auth_server.hypatos_client_secret, **moved)
    assert (
        context.admin_client.post(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", data).status_code
        == 302
    )
    stored = HypatosConnection.objects.get(pk=connection.pk)
    assert stored.client_secret == auth_server.hypatos_client_secret and stored.access_token == ""


def test_the_shell_keeps_a_secret_typed_again_or_declared_entered(auth_server, fault_server):
    connection = authorized(make_hypatos(auth_server))
    connection.token_url = fault_server.url("/token-ok")
    connection.secrets_entered = {"client_secret"}  # what the form says of a secret typed again
    connection.save()
    stored = HypatosConnection.objects.get(pk=connection.pk)
    assert stored.client_secret == auth_server.hypatos_client_secret and stored.access_token == ""
    # The declaration was for that save: moving the same object again asks again.
    connection.token_url = auth_server.hypatos_token_url
    connection.save()
    assert HypatosConnection.objects.get(pk=connection.pk).client_secret == ""
    # A save that moves nothing leaves the secret and the token alone.
    stored = HypatosConnection.objects.get(pk=connection.pk)
    stored.client_secret = auth_server.hypatos_client_secret
    stored = authorized(stored)
    stored.scope = "projects.read"
    stored.save()
    assert HypatosConnection.objects.get(pk=connection.pk).access_token == STORED_TOKEN


@pytest.mark.parametrize("door", doors.MOVES)
def test_a_moved_revocation_url_never_receives_the_refresh_token(
    door, context, auth_server, fault_server, django_capture_on_commit_callbacks
):
    connection = authorized(generic(auth_server), refresh=STORED_REFRESH)
    fault_server.reset()
    with django_capture_on_commit_callbacks(execute=True):
        doors.MOVES[door](context, connection, revocation_url=fault_server.url("/revoke"))
    stored = GenericConnection.objects.get(pk=connection.pk)
    if stored.revocation_url == auth_server.generic_revocation_url:
        assert door in ("form", "shell, base model")  # refused, or a model without the field
    else:
        assert (stored.refresh_token, stored.client_secret) == ("", ""), door
    # Deleting it afterwards revokes what is stored, where it is stored: never the old token at
    # the new place.
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            context.admin_client.post(
                f"/admin/connectors/genericconnection/{connection.pk}/delete/", {"post": "yes"}
            ).status_code
            == 302
        )
    assert doors.leaked(fault_server.requests, STORED_REFRESH, STORED_TOKEN, auth_server.generic_client_secret) == []


@pytest.mark.parametrize("door", ["form", "import page", "import command", "shell"])
def test_a_move_revokes_the_dropped_refresh_token_where_it_was_issued(
    door, context, auth_server, fault_server, django_capture_on_commit_callbacks
):
    connection = authorized(generic(auth_server), refresh=STORED_REFRESH)
    auth_server.reset_stats()
    moved = {"token_url": fault_server.url("/token-ok")}
    with django_capture_on_commit_callbacks(execute=True):
        if door == "form":
            data = doors.form_data(auth_server, connection, client_secret=auth_server.generic_client_secret, **moved)
            context.admin_client.post(f"/admin/connectors/genericconnection/{connection.pk}/change/", data)
        else:
            doors.MOVES[door](context, connection, **moved)
    assert GenericConnection.objects.get(pk=connection.pk).token_url == moved["token_url"]
    # Revoked at the server that issued it (an unknown token is confirmed there too, RFC 7009).
    assert auth_server.stats()["revocations"] == {"generic": 1}, door
    assert connection.events.filter(action="revoked").exists()


# -- item 4: a revocation error answer is an event or a log line, never a 500 ---------------------


@pytest.fixture
def refusing_revocation(fault_server):
    fault_server.script(
        "/revoke-refused", 400, {"Content-Type": "application/json"}, b'{"error": "unsupported_token_type"}'
    )
    return fault_server.url("/revoke-refused")


def delete_in_the_admin(context, connection):
    answer = context.admin_client.post(f"/admin/connectors/genericconnection/{connection.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302


def delete_selected_in_the_overview(context, connection):
    answer = context.admin_client.post(
        "/admin/connectors/connection/",
        {"action": "delete_selected", "_selected_action": [connection.pk], "post": "yes"},
    )
    assert answer.status_code == 302


def delete_in_the_shell(context, connection):
    Connection.objects.filter(pk=connection.pk).delete()


@pytest.mark.parametrize("delete", [delete_in_the_admin, delete_selected_in_the_overview, delete_in_the_shell])
def test_a_refused_revocation_after_a_delete_is_logged_not_a_server_error(
    delete, context, auth_server, refusing_revocation, caplog, django_capture_on_commit_callbacks
):
    connection = authorized(generic(auth_server, revocation_url=refusing_revocation), refresh=STORED_REFRESH)
    caplog.set_level(logging.INFO, logger="connectors.store.events")
    with django_capture_on_commit_callbacks(execute=True):
        delete(context, connection)
    assert not Connection.objects.filter(pk=connection.pk).exists()
    line = next(r.getMessage() for r in caplog.records if "deleted" in r.getMessage())
    assert "did not confirm the revocation (HTTP 400, unsupported_token_type)" in line
    assert STORED_REFRESH not in caplog.text


@pytest.mark.parametrize("door", ["form", "import page", "import command", "shell"])
def test_a_refused_revocation_after_a_move_is_an_event(
    door, context, auth_server, fault_server, refusing_revocation, django_capture_on_commit_callbacks
):
    connection = authorized(generic(auth_server, revocation_url=refusing_revocation), refresh=STORED_REFRESH)
    moved = {"token_url": fault_server.url("/token-ok")}
    with django_capture_on_commit_callbacks(execute=True):
        if door == "form":
            data = doors.form_data(auth_server, connection, client_secret=auth_server.generic_client_secret, **moved)
            answer = context.admin_client.post(f"/admin/connectors/genericconnection/{connection.pk}/change/", data)
            assert answer.status_code == 302
        else:
            doors.MOVES[door](context, connection, **moved)
    event = connection.events.get(action="revocation failed")
    assert "unsupported_token_type" in event.message and not event.succeeded
    assert STORED_REFRESH not in event.message


def test_an_unusual_token_error_code_is_a_sentence_not_a_server_error(context, auth_server, fault_server):
    # The clash of item 4: a sentence with a parameter named `code` raised TypeError, which the
    # answer guard then reported as "not a usable answer" instead of the partner's own code.
    fault_server.script("/token-denied", 400, {"Content-Type": "application/json"}, b'{"error": "access_denied"}')
    connection = make_hypatos(auth_server, token_url=fault_server.url("/token-denied"))
    answer = context.admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200
    assert not answer.json()["passed"] and "(access_denied)" in answer.json()["message"]
