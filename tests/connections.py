"""Connections pointed at the real local authorization server (allowed through the
EXTRA_ALLOWED_HOSTS test setting), and the form data that edits them."""

from connectors.models import HypatosConnection, InveniasConnection, InverbisConnection


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
