"""The callback accepts only the single-use state it issued, to the session and user that started
the authorization, in time; anything else is refused and nothing is stored."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from connectors.engine.state import SESSION_KEY
from connectors.models import Connection
from tests.connections import inverbis_form, make_inverbis
from tests.forms_data import change_url

pytestmark = pytest.mark.django_db


def start(client, connection, server):
    data = {**inverbis_form(server), "name": connection.name, "_generate": "1"}
    response = client.post(change_url("inverbisconnection", connection.pk), data)
    assert response.status_code == 302
    return response["Location"]


def answer(server, authorize_url, **override):
    """The provider's redirect back to us, as a path + query, optionally altered."""
    parts = urlsplit(server.authorize(authorize_url))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(override)
    query = {k: v for k, v in query.items() if v is not None}
    return f"{parts.path}?{urlencode(query)}"


def follow(client, callback):
    response = client.get(callback)
    assert response.status_code == 302
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def assert_nothing_stored(*connections):
    for connection in connections:
        stored = Connection.objects.get(pk=connection.pk)
        assert not stored.access_token and not stored.refresh_token


def test_missing_state(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    callback = answer(auth_server, start(admin_client, connection, auth_server), state=None)
    assert "no state" in follow(admin_client, callback)
    assert_nothing_stored(connection)


def test_unknown_state(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    callback = answer(auth_server, start(admin_client, connection, auth_server), state=f"{connection.pk}.forged")
    assert "unknown" in follow(admin_client, callback)
    assert_nothing_stored(connection)


def test_replayed_state(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    callback = answer(auth_server, start(admin_client, connection, auth_server))
    assert "Authorized" in follow(admin_client, callback)
    Connection.objects.filter(pk=connection.pk).update(access_token="", refresh_token="")
    assert "already used" in follow(admin_client, callback)
    assert_nothing_stored(connection)


def test_expired_state(admin_client, auth_server, settings):
    connection = make_inverbis(auth_server)
    authorize_url = start(admin_client, connection, auth_server)
    session = admin_client.session
    states = session[SESSION_KEY]
    for record in states.values():
        record["issued_at"] -= 11 * 60  # the default limit is ten minutes
    session[SESSION_KEY] = states
    session.save()
    assert "expired" in follow(admin_client, answer(auth_server, authorize_url))
    assert_nothing_stored(connection)


def test_state_from_another_session(admin_client, auth_server, django_user_model):
    connection = make_inverbis(auth_server)
    callback = answer(auth_server, start(admin_client, connection, auth_server))
    other = Client()
    other.force_login(django_user_model.objects.create_superuser("other", "o@example.com", "pw"))
    assert "another browser session" in follow(other, callback)
    assert_nothing_stored(connection)
    # The other session could not use it up: the session that started it still can.
    assert "Authorized" in follow(admin_client, callback)


def test_state_of_another_connection(admin_client, auth_server):
    first = make_inverbis(auth_server)
    second = make_inverbis(auth_server, name="Second")
    first_answer = parse_qs(urlsplit(answer(auth_server, start(admin_client, first, auth_server))).query)
    second_answer = parse_qs(urlsplit(answer(auth_server, start(admin_client, second, auth_server))).query)
    # The first connection's state with the code issued for the second: the PKCE verifier kept
    # for the first does not match the second's code, and the server refuses it.
    mixed = f"/oauth/callback/{first.pk}/?" + urlencode(
        {"state": first_answer["state"][0], "code": second_answer["code"][0], "iss": second_answer["iss"][0]}
    )
    assert "refused the authorization code" in follow(admin_client, mixed)
    # A state relabelled with the other connection's id is simply unknown.
    relabelled = second_answer["state"][0].replace(f"{second.pk}.", f"{first.pk}.", 1)
    forged = f"/oauth/callback/{first.pk}/?" + urlencode({"state": relabelled, "code": second_answer["code"][0]})
    assert "unknown" in follow(admin_client, forged)
    assert_nothing_stored(first, second)


def test_wrong_pkce_verifier_is_refused_by_the_server(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    authorize_url = start(admin_client, connection, auth_server)
    session = admin_client.session
    states = session[SESSION_KEY]
    for record in states.values():
        record["verifier"] = "x" * 64
    session[SESSION_KEY] = states
    session.save()
    message = follow(admin_client, answer(auth_server, authorize_url))
    assert "invalid_grant" in message
    assert_nothing_stored(connection)
    assert Connection.objects.get(pk=connection.pk).events.filter(action="authorize failed").exists()


def test_callback_requires_a_logged_in_staff_user(client, auth_server):
    response = client.get("/oauth/callback/?state=x&code=y")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
