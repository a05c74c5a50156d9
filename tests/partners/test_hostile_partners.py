"""Whatever a partner answers (wrong types, absurd sizes, deep nesting, a slow drip), Test
Connection, Generate, the callback and refresh_tokens answer with a failure sentence: never a
server error or an unhandled exception. The hostile answers come from the tests' own small
misbehaving server (tests/servers.py), scripted per example."""

import json
import time
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.core import text
from connectors.engine.state import SESSION_KEY
from connectors.models import Connection, Status
from tests.connections import invenias_form, make_hypatos, make_invenias, make_inverbis
from tests.servers import DripBody

pytestmark = pytest.mark.django_db

JSON = "application/json"
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["soon", "3600", "-1", "1e400", "\u202e", "a" * 5000, "openid profile"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
TOKEN_ANSWER = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.one_of(st.just("hostile-access-token"), VALUES),
        "expires_in": VALUES,
        "scope": VALUES,
        "refresh_token": st.one_of(st.just("hostile-refresh-token"), VALUES),
        "token_type": VALUES,
        "error": VALUES,
        "error_description": VALUES,
    },
)
DEEP = 100_000
RAW_BODIES = [
    b'{"access_token": "a", "token_type": "Bearer", "expires_in": 1e400}',
    b'{"access_token": "a", "expires_in": ' + b"9" * 5000 + b"}",
    b'{"access_token": "a", "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b"[" * DEEP,
    b'{"access_token": "a", "x": ' + b'{"y": ' * 5000 + b"1" + b"}" * 5000 + b"}",
    b'{"access_token": "a", "scope": 42, "expires_in": {"seconds": 1}}',
    b'"just a string"',
    b"\xff\xfe not utf-8",
    b"",
]
ANSWERS = st.one_of(
    st.tuples(
        st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 302]),
        st.sampled_from([JSON, JSON, "application/json; charset=utf-8", "text/html", "application/x+json", ""]),
        TOKEN_ANSWER.map(lambda answer: json.dumps(answer).encode()),
    ),
    st.tuples(st.just(200), st.just(JSON), st.sampled_from(RAW_BODIES)),
)
ROUTES = ["test", "probe", "generate", "callback", "refresh"]
GOOD_TOKEN = {"access_token": "a-token", "token_type": "Bearer", "expires_in": 3600}


@pytest.fixture
def partner(admin_client, auth_server, fault_server, settings):
    """One connection per route, pointing where the hostile answer will come from."""
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "HTTP_TIMEOUT": 1}
    hostile_token = fault_server.url("/hostile/token")
    return {
        "test": make_hypatos(auth_server, name="Test", token_url=hostile_token),
        "probe": make_hypatos(auth_server, name="Probe", endpoint_url=fault_server.url("/hostile")),
        "generate": make_invenias(auth_server, name="Generate", token_url=hostile_token),
        "callback": make_inverbis(auth_server, name="Callback", token_url=hostile_token),
        "refresh": make_inverbis(auth_server, name="Refresh", token_url=hostile_token),
    }


def script(fault_server, status, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    fault_server.script("/hostile/token", status, headers, body)
    fault_server.script("/hostile/projects", status, headers, body)


def run_route(route, connection, client, auth_server):
    """Drive one user-facing path; return the sentence it showed (asserting no server error)."""
    if route in ("test", "probe"):
        response = client.post(
            f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200
        return response.json()["sentence"]
    if route == "generate":
        data = {**invenias_form(auth_server, token_url=connection.token_url), "name": "Generate", "_generate": "1"}
        response = client.post(f"/admin/connectors/inveniasconnection/{connection.pk}/change/", data)
        assert response.status_code == 302
        return ""
    if route == "callback":
        form = {
            "name": "Callback",
            "tenant": "acme",
            "client_id": auth_server.inverbis_client_id,
            "authorization_url": auth_server.inverbis_auth_url,
            "token_url": connection.token_url,
            "scope": "openid",
            "_generate": "1",
        }
        started = client.post(f"/admin/connectors/inverbisconnection/{connection.pk}/change/", form)
        assert started.status_code == 302
        query = parse_qs(urlsplit(started["Location"]).query)
        callback = urlsplit(query["redirect_uri"][0]).path
        issuer = f"{auth_server.base_url}/auth/realms/acme"  # as the honest server names itself
        response = client.get(callback, {"state": query["state"][0], "code": "a-code", "iss": issuer})
        assert response.status_code == 302
        # The state was used up for good, even though the exchange failed.
        assert query["state"][0] not in client.session.get(SESSION_KEY, {})
        return " ".join(str(m) for m in get_messages(response.wsgi_request))
    Connection.objects.filter(pk=connection.pk).update(
        status=Status.AUTHORIZED, access_token="old", refresh_token="old-refresh", token_expires_at=timezone.now()
    )
    out = StringIO()
    try:
        # One worker: the test runs in one transaction, which other threads cannot see.
        call_command("refresh_tokens", "--workers", "1", stdout=out, stderr=StringIO())
    except CommandError as error:
        assert error.returncode == 1
    assert " expiring within 10 min" in out.getvalue()
    return out.getvalue()


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), answer=ANSWERS)
@example(route="test", answer=(200, JSON, RAW_BODIES[0]))
@example(route="callback", answer=(200, JSON, RAW_BODIES[2]))
@example(route="refresh", answer=(200, JSON, RAW_BODIES[5]))
@example(route="probe", answer=(200, JSON, RAW_BODIES[3]))
@example(route="generate", answer=(200, JSON, b'{"access_token": "a", "expires_in": "soon", "scope": 7}'))
def test_no_partner_answer_causes_a_server_error(admin_client, auth_server, fault_server, partner, route, answer):
    script(fault_server, *answer)
    sentence = run_route(route, partner[route], admin_client, auth_server)
    assert not text.refused_characters(sentence.replace("\n", ""))  # no control or bidi characters
    for secret in (auth_server.hypatos_client_secret, auth_server.invenias_client_secret, auth_server.password):
        assert secret not in sentence


def drip_body(every, headers):
    body = DripBody(json.dumps(GOOD_TOKEN).encode())
    body.every, body.headers = every, headers
    return body


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_slow_drip_is_cut_at_the_total_deadline(admin_client, auth_server, fault_server, partner, route, headers):
    # Each byte arrives well within the 1-second read timeout; the whole would take ~20 s.
    fault_server.script("/hostile/token", 200, {"Content-Type": JSON}, drip_body(0.3, headers))
    fault_server.script("/hostile/projects", 200, {"Content-Type": JSON}, drip_body(0.3, headers))
    started = time.monotonic()
    sentence = run_route(route, partner[route], admin_client, auth_server)
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # HTTP_TIMEOUT is 1 s for each of the (at most two) requests
    if route in ("test", "probe", "refresh", "callback"):
        assert "did not answer within 1 second" in sentence


def test_refresh_tokens_goes_on_after_a_hostile_answer(auth_server, fault_server):
    script(fault_server, 200, JSON, RAW_BODIES[2])  # nesting deep enough to exhaust the parser
    hostile = make_hypatos(auth_server, name="Hostile", token_url=fault_server.url("/hostile/token"))
    fine = make_hypatos(auth_server, name="Fine")
    Connection.objects.filter(pk__in=[hostile.pk, fine.pk]).update(
        status=Status.AUTHORIZED, access_token="old", token_expires_at=timezone.now()
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("refresh_tokens", "--workers", "1", stdout=out, stderr=StringIO())
    assert "2 tokens expiring within 10 min: 1 refreshed, 1 failed" in out.getvalue()
    assert "not a usable answer" in out.getvalue()
    assert Connection.objects.get(pk=fine.pk).access_token != "old"


@pytest.mark.parametrize("body", [RAW_BODIES[2], RAW_BODIES[3], b'{"authorization_endpoint": 7, "issuer": []}'])
def test_a_hostile_discovery_document_is_a_sentence_on_generate(admin_client, auth_server, fault_server, body):
    realm = "/auth/realms/hostile"
    fault_server.script(f"{realm}/.well-known/openid-configuration", 200, {"Content-Type": JSON}, body)
    endpoint = fault_server.url(f"{realm}/protocol/openid-connect")
    connection = make_inverbis(auth_server, authorization_url=f"{endpoint}/auth", token_url=f"{endpoint}/token")
    form = {
        "name": connection.name,
        "tenant": "acme",
        "client_id": auth_server.inverbis_client_id,
        "authorization_url": connection.authorization_url,
        "token_url": connection.token_url,
        "scope": "openid",
        "_generate": "1",
    }
    response = admin_client.post(f"/admin/connectors/inverbisconnection/{connection.pk}/change/", form)
    assert response.status_code == 302
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert not text.refused_characters(said)
