"""A server error never shows a connection's secret: not on the DEBUG=true error page, not in the
report mailed to ADMINS; and it is logged to stderr even when no ADMINS are set."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.views.debug import get_default_exception_reporter_filter

from connectors.partners import http
from tests.connections import make_hypatos, make_invenias

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def broken_hook(response):
    # A fault no server produces on demand: a bug while requests-oauthlib holds the secrets in
    # its local variables (client_secret, password, the request body, the Basic header).
    raise RuntimeError("a bug inside the token request")


@pytest.mark.parametrize("maker,model", [(make_invenias, "inveniasconnection"), (make_hypatos, "hypatosconnection")])
def test_the_debug_error_page_holds_no_secret(auth_server, settings, monkeypatch, admin_client, maker, model):
    settings.DEBUG = True
    connection = maker(auth_server)
    monkeypatch.setattr(http, "check_token_response", broken_hook)
    client = Client(raise_request_exception=False)
    client.force_login(admin_client.user)
    response = client.post(f"/admin/connectors/{model}/{connection.pk}/test-connection/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "fetch_token" in page and "a bug inside the token request" in page  # the technical page
    secrets = [connection.client_secret, getattr(connection, "password", connection.client_secret)]
    basic = base64.b64encode(f"{connection.client_id}:{connection.client_secret}".encode()).decode()
    for secret in [*secrets, basic, settings.FIELD_ENCRYPTION_KEY[0], settings.SECRET_KEY]:
        assert secret not in page


def test_the_filter_is_active_whatever_debug_says(settings, rf):
    for debug in (True, False):
        settings.DEBUG = debug
        assert get_default_exception_reporter_filter().is_active(rf.get("/"))


def test_a_server_error_is_logged_to_stderr_without_admins(tmp_path):
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'; django.setup();\n"
        "from django.conf import settings; assert not settings.DEBUG and not settings.ADMINS\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.urls import path; from django.test import Client, override_settings\n"
        "def boom(request): raise RuntimeError('boom for the log')\n"
        "import types; urls = types.ModuleType('boom_urls'); urls.urlpatterns = [path('boom/', boom)]\n"
        "import sys; sys.modules['boom_urls'] = urls\n"
        "with override_settings(ROOT_URLCONF='boom_urls'):\n"
        "    print(Client(raise_request_exception=False).get('/boom/').status_code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TEST_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "500", result.stderr
    assert "Internal Server Error: /boom/" in result.stderr and "boom for the log" in result.stderr
