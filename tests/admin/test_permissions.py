"""Only staff holding the model's permissions see or change connections."""

import pytest
from django.test import Client

from connectors.models import InveniasConnection
from tests.forms_data import INVENIAS, add_url, change_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    return InveniasConnection.objects.get()


def test_anonymous_users_are_sent_to_the_login_page(client, connection):
    for url in (
        change_url("inveniasconnection", connection.pk),
        "/admin/connectors/connection/",
        add_url("hypatosconnection"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_permissions_get_403(staff_factory, connection):
    client = Client()
    client.force_login(staff_factory("nobody"))
    assert client.get(change_url("inveniasconnection", connection.pk)).status_code == 403
    assert client.get(add_url("inveniasconnection")).status_code == 403
    assert client.get("/admin/connectors/inveniasconnection/").status_code == 403


def test_view_only_staff_see_but_cannot_change(staff_factory, connection):
    client = Client()
    client.force_login(staff_factory("viewer", "view_inveniasconnection"))
    page = client.get(change_url("inveniasconnection", connection.pk))
    assert page.status_code == 200
    assert INVENIAS["client_secret"] not in page.content.decode()
    response = client.post(change_url("inveniasconnection", connection.pk), {**INVENIAS, "name": "Hijacked"})
    assert response.status_code == 403
    assert InveniasConnection.objects.get().name == INVENIAS["name"]
    assert client.get(add_url("inveniasconnection")).status_code == 403


def test_permission_for_one_provider_does_not_open_another(staff_factory, connection):
    client = Client()
    client.force_login(staff_factory("hypatos-only", "view_hypatosconnection", "change_hypatosconnection"))
    assert client.get(change_url("inveniasconnection", connection.pk)).status_code == 403


def test_view_only_staff_get_no_generate_button(staff_factory, connection):
    client = Client()
    client.force_login(staff_factory("viewer", "view_inveniasconnection"))
    page = client.get(change_url("inveniasconnection", connection.pk)).content.decode()
    assert "_generate" not in page and "Test Connection" not in page
    assert "No token" in page
