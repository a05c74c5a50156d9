"""Hardening a credential store should have: a Content-Security-Policy on every page with no
inline script or style, login throttling with a documented unlock, and an 8-hour session."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from tests.connections import make_hypatos, make_invenias, make_inverbis

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+=", re.I)


def policy(response):
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())


def test_every_page_has_a_policy_without_inline_script(client, admin_client, auth_server):
    connections = [make_inverbis(auth_server), make_invenias(auth_server), make_hypatos(auth_server)]
    pages = [
        client.get("/admin/login/"),
        admin_client.get("/admin/"),
        admin_client.get("/admin/connectors/connection/"),
    ]
    for connection in connections:
        model = connection._meta.model_name
        pages += [
            admin_client.get(f"/admin/connectors/{model}/"),
            admin_client.get(f"/admin/connectors/{model}/add/"),
            admin_client.get(f"/admin/connectors/{model}/{connection.pk}/change/"),
        ]
    for response in pages:
        assert response.status_code == 200
        directives = policy(response)
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
        assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
        assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)
        assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html)


def login(client, password):
    return client.post("/admin/login/?next=/admin/", {"username": "root", "password": password})


def test_logins_are_throttled_and_axes_reset_unlocks(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "the-right-password")
    client = Client()
    for _attempt in range(30):
        login(client, "wrong")
    response = login(client, "the-right-password")
    assert response.status_code == 429  # locked out, though the password is right
    assert "_auth_user_id" not in client.session
    call_command("axes_reset", verbosity=0)
    response = login(client, "the-right-password")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_a_success_before_the_limit_resets_the_count(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "the-right-password")
    client = Client()
    for _round in range(3):
        for _attempt in range(4):
            assert login(client, "wrong").status_code == 200
        assert login(client, "the-right-password").status_code == 302
        client.logout()


def test_a_login_lasts_eight_hours(django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "the-right-password")
    client = Client()
    response = login(client, "the-right-password")
    assert client.session.get_expiry_age() == 8 * 3600
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600
