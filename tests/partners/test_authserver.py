"""The test authorization server itself behaves like the partners' servers.

Exercised with plain requests and requests-oauthlib (never the application),
so a failure here means the test infrastructure is wrong, not the product.
"""

import base64
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oauthlib.oauth2 import BackendApplicationClient, LegacyApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from tests.authserver.browserless import AuthorizeError

# DOT ignores the port of a loopback redirect URI (RFC 8252), so any port
# matches the registered http://127.0.0.1/oauth/callback/. Nothing listens
# here: the callback is returned, never followed.
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback/"


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch):
    # oauthlib refuses http:// unless told this is a test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def query(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def inverbis_session(auth_server, **kwargs):
    return OAuth2Session(
        auth_server.inverbis_client_id,
        redirect_uri=REDIRECT_URI,
        scope=["openid", "offline_access"],
        pkce="S256",
        **kwargs,
    )


def authorization_code(auth_server, prompt="consent"):
    """Run the browser part of the flow; return (session with its PKCE verifier, callback URL).
    prompt=consent goes with offline_access (OpenID Connect Core §11), as the server insists."""
    oauth = inverbis_session(auth_server)
    url, state = oauth.authorization_url(auth_server.inverbis_auth_url, **({"prompt": prompt} if prompt else {}))
    callback = auth_server.authorize(url)
    assert query(callback)["state"] == state
    return oauth, callback


def inverbis_tokens(auth_server):
    oauth, callback = authorization_code(auth_server)
    return oauth.fetch_token(auth_server.inverbis_token_url, authorization_response=callback, include_client_id=True)


def refresh(auth_server, refresh_token):
    return requests.post(
        auth_server.inverbis_token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": auth_server.inverbis_client_id,
        },
        timeout=10,
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def invenias_token(auth_server, scope="openid profile api email"):
    oauth = OAuth2Session(client=LegacyApplicationClient(client_id=auth_server.invenias_client_id))
    return oauth.fetch_token(
        auth_server.invenias_token_url,
        username=auth_server.username,
        password=auth_server.password,
        client_id=auth_server.invenias_client_id,
        client_secret=auth_server.invenias_client_secret,
        include_client_id=True,  # credentials in the form body, as Invenias documents
        scope=scope,
        subdomain="acme",  # sent by Invenias's own examples; must be tolerated
    )


def hypatos_token(auth_server, client_id=None, client_secret=None, scope=None):
    client_id = client_id or auth_server.hypatos_client_id
    client_secret = client_secret or auth_server.hypatos_client_secret
    oauth = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    # fetch_token sends a scope only when given one here (the session's is not sent).
    return oauth.fetch_token(auth_server.hypatos_token_url, auth=HTTPBasicAuth(client_id, client_secret), scope=scope)


# --- Inverbis: authorization code with PKCE, refresh, userinfo ------------------


def test_authorization_code_with_pkce_then_userinfo(auth_server):
    token = inverbis_tokens(auth_server)

    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    assert set(token["scope"]) == {"openid", "offline_access"}
    assert 3500 < token["expires_in"] <= 3600
    userinfo = requests.get(auth_server.inverbis_userinfo_url, headers=bearer(token["access_token"]), timeout=10)
    assert userinfo.status_code == 200
    assert userinfo.json()["preferred_username"] == auth_server.username
    assert userinfo.json()["sub"]


def test_offline_access_without_prompt_consent_is_dropped(auth_server):
    # OpenID Connect Core §11: a strict provider ignores offline_access without prompt=consent.
    oauth, callback = authorization_code(auth_server, prompt=None)
    oauth.scope = ["openid"]  # what the server granted; requests-oauthlib compares with the asked
    token = oauth.fetch_token(auth_server.inverbis_token_url, authorization_response=callback, include_client_id=True)
    assert set(token["scope"]) == {"openid"}


def exchange_code(auth_server, code, verifier):
    """A plain code exchange as a public client sends it."""
    return requests.post(
        auth_server.inverbis_token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": auth_server.inverbis_client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )


def test_a_code_is_single_use(auth_server):
    oauth, callback = authorization_code(auth_server)
    oauth.fetch_token(auth_server.inverbis_token_url, authorization_response=callback, include_client_id=True)

    again = exchange_code(auth_server, query(callback)["code"], oauth._code_verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(auth_server):
    _, callback = authorization_code(auth_server)

    response = exchange_code(auth_server, query(callback)["code"], secrets.token_urlsafe(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_pkce_is_required(auth_server):
    params = {"response_type": "code", "client_id": auth_server.inverbis_client_id, "redirect_uri": REDIRECT_URI}
    callback = auth_server.authorize(f"{auth_server.inverbis_auth_url}?{urlencode({**params, 'state': 'xyz'})}")

    assert query(callback)["error"] == "invalid_request"
    assert query(callback)["state"] == "xyz"


def test_plain_pkce_is_refused(auth_server):
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": auth_server.inverbis_client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "xyz",
        "code_challenge": verifier,
        "code_challenge_method": "plain",
    }
    callback = auth_server.authorize(f"{auth_server.inverbis_auth_url}?{urlencode(params)}")

    assert query(callback)["error"] == "invalid_request"
    assert "code" not in query(callback)


def test_s256_challenge_computed_by_hand_works(auth_server):
    # Guards against requests-oauthlib and DOT agreeing on a wrong S256.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": auth_server.inverbis_client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    callback = auth_server.authorize(f"{auth_server.inverbis_auth_url}?{urlencode(params)}")
    response = requests.post(
        auth_server.inverbis_token_url,
        data={
            "grant_type": "authorization_code",
            "code": query(callback)["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": auth_server.inverbis_client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_deny_redirects_with_access_denied(auth_server):
    oauth = inverbis_session(auth_server)
    url, state = oauth.authorization_url(auth_server.inverbis_auth_url)

    callback = auth_server.authorize(url, allow=False)

    assert callback.startswith(REDIRECT_URI)
    assert query(callback)["error"] == "access_denied"
    assert query(callback)["state"] == state
    assert "code" not in query(callback)


def test_the_consent_form_needs_its_csrf_token(auth_server):
    response = requests.post(auth_server.inverbis_auth_url, data={"allow": "Allow"}, allow_redirects=False, timeout=10)
    assert response.status_code == 403


def test_a_wrong_password_is_refused_at_login(auth_server):
    url, _ = inverbis_session(auth_server).authorization_url(auth_server.inverbis_auth_url)

    with pytest.raises(AuthorizeError, match="login refused"):
        auth_server.authorize(url, password="wrong")


def test_an_unregistered_redirect_uri_is_never_redirected_to(auth_server):
    oauth = OAuth2Session(auth_server.inverbis_client_id, redirect_uri="http://evil.example/cb", pkce="S256")
    url, _ = oauth.authorization_url(auth_server.inverbis_auth_url)

    with pytest.raises(AuthorizeError, match="HTTP 400"):
        auth_server.authorize(url)


def test_refresh_rotates_the_refresh_token(auth_server):
    first = inverbis_tokens(auth_server)

    response = refresh(auth_server, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert set(second["scope"].split()) == {"openid", "offline_access"}

    replay = refresh(auth_server, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refresh(auth_server, second["refresh_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_let_exactly_one_win(auth_server):
    token = inverbis_tokens(auth_server)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: refresh(auth_server, token["refresh_token"]), range(8)))

    assert sorted(r.status_code for r in responses) == [200] + [400] * 7
    assert {r.json().get("error") for r in responses if r.status_code == 400} == {"invalid_grant"}


def test_revoked_refresh_tokens_give_invalid_grant_but_access_tokens_live_on(auth_server):
    token = inverbis_tokens(auth_server)

    assert auth_server.revoke_refresh_tokens() >= 1

    response = refresh(auth_server, token["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    userinfo = requests.get(auth_server.inverbis_userinfo_url, headers=bearer(token["access_token"]), timeout=10)
    assert userinfo.status_code == 200


def test_expired_access_tokens_are_refused(auth_server):
    token = inverbis_tokens(auth_server)

    assert auth_server.expire_access_tokens() >= 1

    userinfo = requests.get(auth_server.inverbis_userinfo_url, headers=bearer(token["access_token"]), timeout=10)
    assert userinfo.status_code == 401
    assert userinfo.json()["error"] == "invalid_token"
    assert refresh(auth_server, token["refresh_token"]).status_code == 200


def test_userinfo_needs_a_bearer_token(auth_server):
    assert requests.get(auth_server.inverbis_userinfo_url, timeout=10).status_code == 401
    assert requests.get(auth_server.inverbis_userinfo_url, headers=bearer("nope"), timeout=10).status_code == 401


def test_discovery_document_points_at_the_realm_endpoints(auth_server):
    document = requests.get(auth_server.inverbis_discovery_url, timeout=10).json()

    assert document["authorization_endpoint"] == auth_server.inverbis_auth_url
    assert document["token_endpoint"] == auth_server.inverbis_token_url
    assert document["userinfo_endpoint"] == auth_server.inverbis_userinfo_url
    assert document["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize(
    "route",
    [
        "/protocol/openid-connect/auth",
        "/protocol/openid-connect/token",
        "/protocol/openid-connect/userinfo",
        "/.well-known/openid-configuration",
    ],
)
def test_an_unknown_tenant_is_404_on_every_route(auth_server, route):
    url = auth_server.url(f"/auth/realms/nosuchrealm{route}")
    for method in ("GET", "POST"):
        response = requests.request(method, url, allow_redirects=False, timeout=10)
        assert response.status_code == 404
        assert response.json() == {"error": "Realm does not exist"}


# --- Invenias: password grant, countries probe ---------------------------------


def test_password_grant_without_refresh_token_then_countries(auth_server):
    token = invenias_token(auth_server)

    assert set(token["scope"]) == {"openid", "profile", "api", "email"}
    assert "refresh_token" not in token
    response = requests.get(
        auth_server.invenias_api_url + "countries", headers=bearer(token["access_token"]), timeout=10
    )
    assert response.status_code == 200
    assert isinstance(response.json(), list) and response.json()


def test_password_grant_refuses_a_wrong_password_or_secret(auth_server):
    data = {
        "grant_type": "password",
        "client_id": auth_server.invenias_client_id,
        "client_secret": auth_server.invenias_client_secret,
        "username": auth_server.username,
        "password": "wrong",
    }
    response = requests.post(auth_server.invenias_token_url, data=data, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"

    data.update(password=auth_server.password, client_secret="wrong")
    response = requests.post(auth_server.invenias_token_url, data=data, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_countries_needs_scope_api(auth_server):
    token = invenias_token(auth_server, scope="openid profile")
    url = auth_server.invenias_api_url + "countries"

    assert requests.get(url, headers=bearer(token["access_token"]), timeout=10).status_code == 403
    assert requests.get(url, timeout=10).status_code == 401


# --- Hypatos: client credentials with Basic auth, projects probe ----------------


def test_client_credentials_with_basic_auth_then_projects(auth_server):
    token = hypatos_token(auth_server)

    assert set(token["scope"]) == {"projects.read", "documents.read"}
    assert "refresh_token" not in token
    response = requests.get(
        f"{auth_server.hypatos_endpoint}/projects",
        params={"limit": 1},
        headers=bearer(token["access_token"]),
        timeout=10,
    )
    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


def test_client_credentials_refuses_a_wrong_secret(auth_server):
    response = requests.post(
        auth_server.hypatos_token_url,
        data={"grant_type": "client_credentials"},
        auth=(auth_server.hypatos_client_id, "wrong"),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_projects_is_403_without_projects_read(auth_server):
    narrow = hypatos_token(auth_server, scope=["documents.read"])
    limited = hypatos_token(
        auth_server, auth_server.hypatos_limited_client_id, auth_server.hypatos_limited_client_secret
    )
    url = f"{auth_server.hypatos_endpoint}/projects?limit=1"

    for token in (narrow, limited):
        response = requests.get(url, headers=bearer(token["access_token"]), timeout=10)
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers=bearer("not-a-token"), timeout=10).status_code == 401


def test_the_limited_client_may_not_ask_for_projects_read(auth_server):
    response = requests.post(
        auth_server.hypatos_token_url,
        data={"grant_type": "client_credentials", "scope": "projects.read"},
        auth=(auth_server.hypatos_limited_client_id, auth_server.hypatos_limited_client_secret),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


# --- /_test/ controls -------------------------------------------------------------


def test_stats_count_token_requests_per_grant_type(auth_server):
    auth_server.reset_stats()

    inverbis_tokens(auth_server)
    invenias_token(auth_server)
    hypatos_token(auth_server)
    requests.post(auth_server.hypatos_token_url, data={"grant_type": "client_credentials"}, timeout=10)  # refused

    stats = auth_server.stats()
    assert stats["total"] == 4
    assert stats["by_grant_type"] == {"authorization_code": 1, "password": 1, "client_credentials": 2}
    assert stats["by_provider"] == {"inverbis": 1, "invenias": 1, "hypatos": 2}
    assert auth_server.reset_stats()["total"] == 0


def test_concurrent_token_requests_all_succeed_and_are_counted(auth_server):
    auth_server.reset_stats()

    def fetch(_):
        return requests.post(
            auth_server.hypatos_token_url,
            data={"grant_type": "client_credentials"},
            auth=(auth_server.hypatos_client_id, auth_server.hypatos_client_secret),
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(fetch, range(40)))

    assert statuses == [200] * 40
    assert auth_server.stats()["by_grant_type"] == {"client_credentials": 40}


# --- the fault server answers as documented -------------------------------------------


def test_fault_server_paths(fault_server):
    fault_server.reset()

    assert requests.post(fault_server.url("/500"), timeout=10).json() == {"error": "server_error"}
    assert requests.get(fault_server.url("/429"), timeout=10).headers["Retry-After"] == "30"
    assert requests.post(fault_server.url("/invalid-grant"), timeout=10).json()["error"] == "invalid_grant"
    redirect = requests.post(fault_server.url("/redirect"), allow_redirects=False, timeout=10)
    assert redirect.status_code == 302 and redirect.headers["Location"] == "/token-ok"
    assert len(requests.get(fault_server.url("/huge?mb=1"), timeout=10).content) > 1024 * 1024
    with pytest.raises(requests.exceptions.JSONDecodeError):
        requests.get(fault_server.url("/bad-json"), timeout=10).json()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(fault_server.url("/slow?delay=1"), timeout=0.2)
    token = requests.post(fault_server.url("/token-ok"), data={"a": "b"}, timeout=10).json()
    assert token["token_type"] == "Bearer"

    assert fault_server.request_count == 8
    assert fault_server.requests_to("/token-ok")[0]["body"] == b"a=b"
