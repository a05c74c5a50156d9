"""Connections pointed at the real local authorization server (allowed through the
EXTRA_ALLOWED_HOSTS test setting), and the form data that edits them."""

from connectors.models import GenericConnection, HypatosConnection, InveniasConnection, InverbisConnection


def inverbis_form(server):
    return {
        "name": "Inverbis local",
        "server": "",
        "tenant": "acme",
        "client_id": server.inverbis_client_id,
        "client_secret": "",
        "authorization_url": server.inverbis_auth_url,
        "token_url": server.inverbis_token_url,
        "scope": "openid offline_access",
    }


def invenias_form(server, **changes):
    return {
        "name": "Invenias local",
        "subdomain": "company",
        "api_url": server.invenias_api_url,
        "client_id": server.invenias_client_id,
        "client_secret": server.invenias_client_secret,
        "username": server.username,
        "password": server.password,
        "scope": "openid profile api email",
        "token_url": server.invenias_token_url,
        **changes,
    }


def hypatos_form(server, **changes):
    return {
        "name": "Hypatos local",
        "endpoint_url": server.hypatos_endpoint,
        "client_id": server.hypatos_client_id,
        "client_secret": server.hypatos_client_secret,
        "scope": "projects.read documents.read",
        "token_url": server.hypatos_token_url,
        **changes,
    }


def make_inverbis(server, **fields):
    data = {k: v for k, v in inverbis_form(server).items() if k != "client_secret"}
    return InverbisConnection.objects.create(**{**data, **fields})


def make_invenias(server, **fields):
    return InveniasConnection.objects.create(**{**invenias_form(server), **fields})


def make_hypatos(server, **fields):
    return HypatosConnection.objects.create(**{**hypatos_form(server), **fields})


def generic_form(server, **changes):
    """The generic provider at the test server's root issuer: endpoints left blank for
    discovery, the authorization code grant with a confidential client (HTTP Basic)."""
    return {
        "name": "Any provider local",
        "issuer_url": server.generic_issuer,
        "authorization_url": "",
        "token_url": "",
        "userinfo_url": "",
        "revocation_url": "",
        "probe_url": "",
        "grant": "authorization_code",
        "client_authentication": "client_secret_basic",
        "client_id": server.generic_client_id,
        "client_secret": server.generic_client_secret,
        "username": "",
        "password": "",
        "scope": "openid offline_access",
        **changes,
    }


def make_generic(server, **fields):
    """A generic connection with its endpoints as discovery fills them."""
    endpoints = {
        "authorization_url": server.generic_auth_url,
        "token_url": server.generic_token_url,
        "userinfo_url": server.generic_userinfo_url,
        "revocation_url": server.generic_revocation_url,
    }
    return GenericConnection.objects.create(**{**generic_form(server), **endpoints, **fields})
