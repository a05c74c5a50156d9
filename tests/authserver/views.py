"""Provider-shaped views around django-oauth-toolkit's own.

DOT does the OAuth work (authorization, tokens, bearer validation); these
views only add each partner's URL shape, its API probes and the /_test/
control endpoints.
"""

import json
import threading
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_backends import _add_iss_to_redirect, get_oauthlib_core
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView

from . import shapes, stats
from .seed import TENANT

KNOWN_REALMS = {TENANT}


def realm_route(view):
    """Keycloak answers 404 "Realm does not exist" for an unknown realm, on every route.

    Even to a POST without a CSRF token: so the realm is checked first and the
    CSRF check (for the consent form) moves inside, after it.
    """
    checked = view if getattr(view, "csrf_exempt", False) else csrf_protect(view)

    @wraps(view)
    def wrapper(request, tenant, *args, **kwargs):
        if tenant not in KNOWN_REALMS:
            return JsonResponse({"error": "Realm does not exist"}, status=404)
        return checked(request, *args, **kwargs)

    wrapper.csrf_exempt = True  # for the middleware only; ``checked`` enforces CSRF
    return wrapper


def with_issuer(view):
    """Keycloak names itself in every authorization answer (RFC 9207 `iss`: the realm URL), and
    says so in its discovery document; DOT's own switch for it cannot name a realm."""

    @wraps(view)
    def wrapper(request, tenant, *args, **kwargs):
        response = view(request, tenant, *args, **kwargs)
        location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
        if "state=" in location and ("code=" in location or "error=" in location):
            issuer = request.build_absolute_uri(f"/auth/realms/{tenant}")
            response["Location"] = _add_iss_to_redirect(location, issuer)
        return response

    wrapper.csrf_exempt = getattr(view, "csrf_exempt", False)
    return wrapper


def with_root_issuer(view):
    """The generic provider's server names itself too (RFC 9207): its issuer is its root."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
        if "state=" in location and ("code=" in location or "error=" in location):
            response["Location"] = _add_iss_to_redirect(location, request.build_absolute_uri("/").rstrip("/"))
        return response

    return wrapper


# DOT lets concurrent uses of one refresh token all succeed (they share the
# rotated pair: its "grace" logic). A strict provider lets exactly one win and
# answers invalid_grant to the rest; refreshing one at a time gives us that, so
# a client that forgets to lock is caught.
_refresh_lock = threading.Lock()


def client_authentication(request):
    """How the client authenticated, in RFC 8414's words (for /_test/stats)."""
    if request.META.get("HTTP_AUTHORIZATION", "").startswith("Basic "):
        return "client_secret_basic"
    if request.POST.get("client_secret"):
        return "client_secret_post"
    return "none"


class CountingTokenView(TokenView):
    """DOT's token endpoint, counting requests per grant type for /_test/stats."""

    provider = ""

    def post(self, request, *args, **kwargs):
        grant_type = request.POST.get("grant_type", "")
        stats.record(self.provider, grant_type, client_authentication(request))
        if grant_type == "refresh_token":
            with _refresh_lock:
                return super().post(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)


class CountingRevokeView(RevokeTokenView):
    """DOT's RFC 7009 revocation endpoint, counting requests per provider for /_test/stats."""

    provider = ""

    def post(self, request, *args, **kwargs):
        stats.record_revocation(self.provider)
        return super().post(request, *args, **kwargs)


def offline_access_needs_consent(view):
    """OpenID Connect Core §11, as a strict provider applies it: without `prompt=consent`, a
    request for `offline_access` is ignored (the scope is dropped before the consent page)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scopes = request.GET.get("scope", "").split()
        if (
            request.method == "GET"
            and "offline_access" in scopes
            and "consent" not in request.GET.get("prompt", "").split()
        ):
            query = request.GET.copy()
            query["scope"] = " ".join(scope for scope in scopes if scope != "offline_access")
            request.GET = query
            request.META["QUERY_STRING"] = query.urlencode()
        return view(request, *args, **kwargs)

    return wrapper


def bearer_required(scope=None):
    """401 JSON without a valid bearer token; 403 JSON when it lacks ``scope``.

    Scope is checked separately (not via verify_request's scopes) so that a
    valid token with too little scope gets 403, as the partners answer.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
            if not valid:
                response = JsonResponse(
                    {"error": "invalid_token", "error_description": "Missing, invalid or expired access token."},
                    status=401,
                )
                response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return response
            token = oauth_request.access_token
            if scope and not token.allow_scopes([scope]):
                response = JsonResponse(
                    {
                        "error": "insufficient_scope",
                        "error_description": f"The access token lacks the scope {scope}.",
                        "scope": scope,
                    },
                    status=403,
                )
                response["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
                return response
            request.access_token = token
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorator


# --- Inverbis (Keycloak) ----------------------------------------------------


@require_http_methods(["GET", "POST"])
@bearer_required()
def userinfo(request):
    user = request.access_token.user
    if user is None:  # a client credentials token has no user
        return JsonResponse({"error": "invalid_token", "error_description": "No user."}, status=401)
    return JsonResponse({"sub": f"user-{user.pk}", "preferred_username": user.get_username()})


@require_http_methods(["GET", "POST"])
@bearer_required()
def conforming_userinfo(request):
    """OpenID Connect Core §5.4 as a certified server applies it: `sub` always, the profile
    claims only for scope `profile`, the e-mail only for scope `email`."""
    token = request.access_token
    if token.user is None:  # a client credentials token has no user
        return JsonResponse({"error": "invalid_token", "error_description": "No user."}, status=401)
    scopes = set(token.scope.split())
    claims = {"sub": f"user-{token.user.pk}"}
    if "profile" in scopes:
        claims.update(name=token.user.get_full_name(), preferred_username=token.user.get_username())
    if "email" in scopes:
        claims.update(email=token.user.email, email_verified=True)
    return JsonResponse(claims)


@require_GET
def openid_configuration(request):
    issuer = request.build_absolute_uri(request.path.removesuffix("/.well-known/openid-configuration"))
    endpoint = f"{issuer}/protocol/openid-connect"
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{endpoint}/auth",
            "token_endpoint": f"{endpoint}/token",
            "userinfo_endpoint": f"{endpoint}/userinfo",
            "revocation_endpoint": f"{endpoint}/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "scopes_supported": list(settings.SCOPES),
            "authorization_response_iss_parameter_supported": True,
        }
    )


@require_GET
def root_metadata(request):
    """The server's own metadata, its issuer being its root (the generic provider's discovery)."""
    issuer = request.build_absolute_uri("/").rstrip("/")
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oidc/authorize",
            "token_endpoint": f"{issuer}/oidc/token",
            "userinfo_endpoint": f"{issuer}/oidc/userinfo",
            "revocation_endpoint": f"{issuer}/oidc/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "scopes_supported": list(settings.SCOPES),
            "authorization_response_iss_parameter_supported": True,
        }
    )


class GrantEndingRevokeView(CountingRevokeView):
    """RFC 7009 §2.1 lets a server revoke more than the one token: revoking a refresh token
    here ends the client's whole grant for that user (every access and refresh token of it, the
    newest included), as Keycloak, Google, Auth0 and many certified servers do by default."""

    def post(self, request, *args, **kwargs):
        refresh = get_refresh_token_model().objects.filter(token=request.POST.get("token", "")).first()
        if refresh is not None:
            for other in get_refresh_token_model().objects.filter(
                user=refresh.user, application=refresh.application, revoked__isnull=True
            ):
                other.revoke()
            get_access_token_model().objects.filter(user=refresh.user, application=refresh.application).delete()
        return super().post(request, *args, **kwargs)


# --- Servers shaped like particular providers (tests/authserver/shapes.py) ------

_ENDPOINT = "/_/"
# Parameters a provider's quirks add to its requests, recorded for /_test/stats (never secrets).
RECORDED_PARAMETERS = ("access_type", "prompt", "audience", "scope")


def _shape_or_404(host):
    shape = shapes.SHAPES.get(host)
    if shape is None:
        return None, JsonResponse({"error": "not_found"}, status=404)
    return shape, None


@csrf_exempt
def shaped_server(request, host, path=""):
    """Everything a provider-shaped server answers under /hosts/<host>/ (see shapes.py)."""
    shape, missing = _shape_or_404(host)
    if missing:
        return missing
    base = request.build_absolute_uri("/").rstrip("/")
    path = f"/{path}"
    if path.endswith(shapes.OPENID_CONFIGURATION):
        if not shape.openid_discovery:
            return JsonResponse({"error": "not_found"}, status=404)
        issuer = shapes.issuer(base, host, shape, path.removesuffix(shapes.OPENID_CONFIGURATION))
        return JsonResponse(shapes.metadata(issuer, shape, settings.SCOPES))
    if path.endswith("services/oauth2/userinfo"):  # Salesforce's userinfo at its instance_url
        return conforming_userinfo(request)
    head, found, endpoint = path.rpartition(_ENDPOINT)
    if not found:
        return JsonResponse({"error": "not_found"}, status=404)
    issuer = shapes.issuer(base, host, shape, head)
    provider = f"hosts/{host}"
    parameters = request.GET if request.method == "GET" else request.POST
    if endpoint in ("authorize", "token"):
        recorded = {name: parameters[name] for name in RECORDED_PARAMETERS if name in parameters}
        stats.record_parameters(provider, endpoint, recorded)
    if endpoint == "authorize":
        view = offline_access_needs_consent(_authorize_view)
        response = csrf_protect(view)(request)
        if shape.iss_in_answers:
            response = _with_iss(response, issuer)
        return response
    if endpoint == "token":
        response = CountingTokenView.as_view(provider=provider)(request)
        if shape.instance_url and response.status_code == 200:
            answer = json.loads(response.content)
            answer["instance_url"] = f"{base}/hosts/{host}"
            response = JsonResponse(answer, status=200)
        return response
    if endpoint == "userinfo":
        return conforming_userinfo(request)
    if endpoint == "revoke" and shape.revocation:
        view = GrantEndingRevokeView if shape.revocation == "grant" else CountingRevokeView
        return view.as_view(provider=provider)(request)
    return JsonResponse({"error": "not_found"}, status=404)


_authorize_view = AuthorizationView.as_view(template_name="authserver/authorize.html")


def _with_iss(response, issuer):
    location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
    if "state=" in location and ("code=" in location or "error=" in location):
        response["Location"] = _add_iss_to_redirect(location, issuer)
    return response


@require_GET
def shaped_rfc8414_metadata(request, host, path=""):
    """RFC 8414 §3.1's path-inserted address of a shaped server's metadata."""
    shape, missing = _shape_or_404(host)
    if missing:
        return missing
    if not shape.rfc8414_discovery:
        return JsonResponse({"error": "not_found"}, status=404)
    issuer = shapes.issuer(request.build_absolute_uri("/").rstrip("/"), host, shape, f"/{path or ''}")
    return JsonResponse(shapes.metadata(issuer, shape, settings.SCOPES))


# --- Invenias ---------------------------------------------------------------

COUNTRIES = [
    {"id": "DE", "name": "Germany"},
    {"id": "FR", "name": "France"},
    {"id": "GB", "name": "United Kingdom"},
]


@require_GET
@bearer_required("api")
def countries(request):
    return JsonResponse(COUNTRIES, safe=False)


# --- Hypatos ----------------------------------------------------------------

PROJECTS = [{"id": f"project-{n}", "name": f"Project {n}"} for n in range(1, 6)]


@require_GET
@bearer_required("projects.read")
def projects(request):
    try:
        limit = int(request.GET.get("limit", "20"))
        offset = int(request.GET.get("offset", "0"))
    except ValueError:
        limit = offset = -1
    if not 1 <= limit <= 100 or offset < 0:
        return JsonResponse({"error": "invalid_request", "error_description": "Bad limit or offset."}, status=400)
    return JsonResponse(
        {"data": PROJECTS[offset : offset + limit], "limit": limit, "offset": offset, "totalCount": len(PROJECTS)}
    )


# --- /_test/ control endpoints (this test server only) ------------------------


@require_GET
def test_stats(request):
    return JsonResponse(stats.snapshot())


@csrf_exempt
@require_POST
def test_reset(request):
    stats.reset()
    return JsonResponse(stats.snapshot())


@csrf_exempt
@require_POST
def test_revoke_refresh_tokens(request):
    """Every live refresh token dies: a later refresh gets invalid_grant.

    Marked revoked in bulk (not ``revoke()``), so access tokens stay valid and a
    test can tell "refresh failed" from "token rejected".
    """
    count = get_refresh_token_model().objects.filter(revoked__isnull=True).update(revoked=timezone.now())
    return JsonResponse({"revoked": count})


@csrf_exempt
@require_POST
def test_expire_access_tokens(request):
    """Every access token expires now: the next API call needs a refresh."""
    past = timezone.now() - timedelta(seconds=1)
    count = get_access_token_model().objects.filter(expires__gt=past).update(expires=past)
    return JsonResponse({"expired": count})
