"""The rules every answer under /api/ keeps, as a consumer meets them: problem details whoever
answers (Django's resolver, the framework, the API), `no-store`, one slash convention, strict
input, the RFC 6750 challenge, problem types that lead to their description, and cursor paging."""

import pytest
import requests

from connectors.api import problem_pages, problems
from connectors.models import Event
from tests.api.helpers import JSON, assert_problem, key_for
from tests.connections import make_hypatos, make_invenias

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("method", "path", "status", "slug"),
    [
        ("POST", "/connections/abc/token", 404, "not-found"),
        ("POST", "/connections/-1/token", 404, "not-found"),
        ("POST", "/connections/1.5/test", 404, "not-found"),
        ("GET", "/connections/abc/proxy/projects", 404, "not-found"),
        ("GET", "/nothing/here", 404, "unknown-path"),
        ("GET", "/connections/", 404, "unknown-path"),
        ("POST", "/connections/{id}/token/", 404, "unknown-path"),
        ("GET", "/connections/{id}/token", 405, "method-not-allowed"),
        ("DELETE", "/connections", 405, "method-not-allowed"),
        ("PUT", "/connections/{id}/test", 405, "method-not-allowed"),
    ],
)
def test_every_error_is_a_problem_with_no_store(api, auth_server, method, path, status, slug):
    connection = make_hypatos(auth_server)
    answer = api.request(method, path.replace("{id}", str(connection.pk)), key_for(connection))

    body = assert_problem(answer, status, slug)

    assert "<html" not in answer.text.lower()
    if status == 405:
        assert answer.headers["Allow"] and answer.headers["Allow"] in body["detail"]


def test_the_other_slash_form_names_the_right_path_and_is_never_redirected(api, auth_server):
    connection = make_hypatos(auth_server)
    key = key_for(connection)

    for wrong, right in (
        ("/connections/", "/api/v1/connections"),
        (f"/connections/{connection.pk}/token/", f"/api/v1/connections/{connection.pk}/token"),
    ):
        answer = api.request("POST" if "token" in wrong else "GET", wrong, key, allow_redirects=False)
        assert right in assert_problem(answer, 404, "unknown-path")["detail"]
    assert api.request("GET", "/connections", key).status_code == 200
    assert api.token(connection.pk, key).status_code == 200


def test_successful_answers_are_not_stored_either(api, auth_server):
    connection = make_hypatos(auth_server)
    key = key_for(connection)
    for answer in (api.token(connection.pk, key), api.request("GET", "/connections", key)):
        assert answer.status_code == 200 and "no-store" in answer.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"min_valid_seconds": "60"}', "min_valid_seconds"),
        ('{"min_valid_seconds": true}', "min_valid_seconds"),
        ('{"min_valid_seconds": 60.5}', "min_valid_seconds"),
        ('{"force_refresh": 0}', "force_refresh"),
        ('{"force_refresh": "true"}', "force_refresh"),
        ('{"min_valid_secs": 60}', "min_valid_secs"),
    ],
)
def test_strict_input_names_the_field_and_hands_out_nothing(api, auth_server, body, field):
    connection = make_hypatos(auth_server)
    answer = api.request("POST", f"/connections/{connection.pk}/token", key_for(connection), data=body, headers=JSON)

    problem = assert_problem(answer, 400, "invalid-request")

    assert [error["field"] for error in problem["errors"]] == [field] and field in problem["detail"]
    assert not Event.objects.filter(action="token handed out").exists()


@pytest.mark.parametrize("body", ["", "null", "{}", '{"min_valid_seconds": 60.0, "force_refresh": false}'])
def test_what_the_document_allows_is_accepted(api, auth_server, body):
    connection = make_hypatos(auth_server)
    answer = api.request("POST", f"/connections/{connection.pk}/token", key_for(connection), data=body, headers=JSON)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("min_valid_seconds=60", "application/x-www-form-urlencoded"), ("{}", "text/plain"), ("{}", None)],
)
def test_a_body_that_is_not_declared_json_gets_415(api, auth_server, data, content_type):
    connection = make_hypatos(auth_server)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.request("POST", f"/connections/{connection.pk}/token", key_for(connection), data=data, headers=headers)
    assert_problem(answer, 415, "unsupported-media-type")
    assert not Event.objects.filter(action="token handed out").exists()


@pytest.mark.parametrize("sent", ["none", "unknown"])
def test_the_challenge_says_invalid_token_only_when_a_key_was_sent(api, auth_server, sent):
    connection = make_hypatos(auth_server)
    key = None if sent == "none" else "pc_00000000_" + "A" * 43
    answer = api.token(connection.pk, key)
    assert_problem(answer, 401, "invalid-key")
    expected = 'Bearer realm="api"' + ("" if sent == "none" else ', error="invalid_token"')
    assert answer.headers["WWW-Authenticate"] == expected


def test_every_problem_type_leads_to_its_description_in_the_docs(api, auth_server):
    connection = make_hypatos(auth_server)
    slugs = set(problems.TYPES)
    assert slugs <= set(problem_pages.sections())  # docs/api.md describes each one

    body = assert_problem(api.request("POST", "/connections/abc/token", key_for(connection)), 404, "not-found")
    page = requests.get(body["type"], timeout=10)

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/markdown")
    assert page.text.startswith("### not-found") and "cannot" in page.text
    assert_problem(api.request("GET", "/problems/no-such-problem"), 404, "unknown-path")


# --- paging ----------------------------------------------------------------------------------------


def test_pages_follow_next_to_the_end_in_id_order(api, auth_server):
    connections = [make_hypatos(auth_server, name=f"H{index}") for index in range(5)]
    hidden = make_hypatos(auth_server, name="hidden")
    key = key_for(*connections)

    seen, url, pages = [], f"{api.base}/connections?limit=2", 0
    while url:
        answer = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
        if url:
            assert answer.headers["Link"] == f'<{url}>; rel="next"'
        else:
            assert "Link" not in answer.headers
        pages += 1

    assert seen == [connection.pk for connection in connections] and hidden.pk not in seen
    assert pages == 3


def test_a_default_page_holds_fifty_and_a_page_at_most_two_hundred(api, auth_server):
    key = key_for(providers=["hypatos"])
    assert api.request("GET", "/connections", key).json() == {"items": [], "next": None}
    for index in range(52):
        make_hypatos(auth_server, name=f"H{index}")
    first = api.request("GET", "/connections", key).json()
    assert len(first["items"]) == 50 and first["next"]
    whole = api.request("GET", "/connections?limit=200", key).json()
    assert len(whole["items"]) == 52 and whole["next"] is None
    for limit in ("0", "201", "ten"):
        answer = api.request("GET", f"/connections?limit={limit}", key)
        assert assert_problem(answer, 400, "invalid-request")["errors"][0]["field"] == "limit"


def test_filters_by_provider_and_health(api, auth_server):
    hypatos = make_hypatos(auth_server)
    invenias = make_invenias(auth_server)
    key = key_for(hypatos, invenias)

    def ids(query):
        answer = api.request("GET", f"/connections?{query}", key)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert ids("provider=invenias") == [invenias.pk]
    assert ids("health=ready") == [hypatos.pk]  # client credentials: tokens on demand
    assert ids("health=not_authorized") == [invenias.pk]
    assert ids("provider=hypatos&health=not_authorized") == []
    for query, field in (("provider=nobody", "provider"), ("health=fine", "health"), ("page=2", "page")):
        answer = api.request("GET", f"/connections?{query}", key)
        assert assert_problem(answer, 400, "invalid-request")["errors"][0]["field"] == field


@pytest.mark.parametrize("cursor", ["abc", "-1", "1" * 19, ""])
def test_a_cursor_the_api_did_not_make_is_refused(api, auth_server, cursor):
    key = key_for(make_hypatos(auth_server))
    answer = api.request("GET", f"/connections?cursor={cursor}", key)
    assert assert_problem(answer, 400, "invalid-request")["errors"][0]["field"] == "cursor"


def test_an_internal_error_is_a_500_problem_that_names_nothing(api, auth_server, monkeypatch, caplog):
    connection = make_hypatos(auth_server)

    def broken(*args, **kwargs):
        raise RuntimeError("a secret-looking detail")

    monkeypatch.setattr("connectors.api.service.run_test", broken)
    answer = api.request("POST", f"/connections/{connection.pk}/test", key_for(connection))

    body = assert_problem(answer, 500, "server-error")
    assert "secret-looking" not in answer.text and "secret-looking" not in caplog.text
    assert "RuntimeError" in caplog.text and body["detail"]


def test_api_answers_skip_the_admins_middleware(api, auth_server, live_server):
    connection = make_hypatos(auth_server)
    answer = api.token(connection.pk, key_for(connection))
    admin_page = requests.get(f"{live_server.url}/admin/login/", timeout=10)

    assert answer.status_code == 200
    # No session or CSRF cookie, no page headers: the API runs without that middleware.
    assert "Set-Cookie" not in answer.headers and "Content-Security-Policy" not in answer.headers
    assert "X-Frame-Options" not in answer.headers
    # The admin still has all of it.
    assert "Content-Security-Policy" in admin_page.headers and "X-Frame-Options" in admin_page.headers
