"""Every admin list accepts only the lookups it declares, secret columns are never filterable,
searchable or orderable, crafted ids and selections are no server error, and two operators adding
the same name at once get a form error."""

import threading

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.db import connection as db
from django.db import connections
from django.test import Client
from encrypted_model_fields.fields import EncryptedMixin

from connectors.admin.policy import DeclaredLookupsOnly
from connectors.models import Connection, InveniasConnection
from tests.forms_data import INVENIAS, add_url

pytestmark = pytest.mark.django_db

HUGE_ID = str(2**64)


@pytest.fixture
def stored(db):
    return InveniasConnection.objects.create(
        name="Victim", subdomain="victim", client_id="victim-client", client_secret="victim-secret", password="pw"
    )


@pytest.fixture
def viewer(staff_factory):
    client = Client()
    user = staff_factory("viewer", "view_inveniasconnection", "view_connection")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="auth", codename="view_user"))
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/connectors/inveniasconnection/?access_token__regex=^gAAAAAB&id__exact={pk}",
        "/admin/connectors/inveniasconnection/?client_secret__startswith=gAAAA",
        "/admin/connectors/inveniasconnection/?password__regex=^g",
        "/admin/connectors/inveniasconnection/?client_id__regex=(",
        "/admin/connectors/connection/?refresh_token__gt=a",
        "/admin/connectors/connection/?inveniasconnection__password__regex=^g",
        "/admin/connectors/connection/?status__regex=(",
        "/admin/auth/user/?password__startswith=md5",
    ],
)
def test_undeclared_lookups_are_refused_for_a_view_only_user(viewer, stored, url):
    response = viewer.get(url.format(pk=stored.pk))
    assert response.status_code == 400


def test_an_api_keys_hash_cannot_be_read_through_a_lookup(admin_client):
    assert admin_client.get("/admin/connectors/apikey/?key_hash__regex=^0").status_code == 400
    assert admin_client.get("/admin/connectors/apikey/?may_obtain_tokens__exact=1").status_code == 200


def test_the_regex_answer_no_longer_depends_on_the_secret(viewer, stored):
    # The attack read one bit per request: the two halves of the alphabet must answer alike.
    first = viewer.get(f"/admin/connectors/inveniasconnection/?access_token__regex=^gAAAAAB[A-M]&id__exact={stored.pk}")
    second = viewer.get(
        f"/admin/connectors/inveniasconnection/?access_token__regex=^gAAAAAB[N-z]&id__exact={stored.pk}"
    )
    assert first.status_code == second.status_code == 400
    assert "Victim" not in first.content.decode() + second.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/connectors/inveniasconnection/?health=not_authorized",
        "/admin/connectors/inveniasconnection/?last_test=never",
        "/admin/connectors/inveniasconnection/?q=Vic",
        "/admin/connectors/inveniasconnection/?o=1",
        "/admin/connectors/connection/?provider=invenias&health=not_authorized",
        "/admin/auth/user/?is_staff__exact=1",
    ],
)
def test_declared_filters_search_and_ordering_still_work(admin_client, stored, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    if "connectors" in url:
        assert "Victim" in response.content.decode()


def test_every_admin_is_under_the_policy_and_no_secret_column_is_filterable_searchable_or_orderable():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, DeclaredLookupsOnly), model
        secrets = {f.name for f in model._meta.get_fields() if isinstance(f, EncryptedMixin)}
        secrets |= {f.name for f in model._meta.get_fields() if f.name.endswith("_hash")}  # API keys
        if model is User:
            secrets.add("password")
        filters = {
            item if isinstance(item, str) else getattr(item, "parameter_name", item) for item in model_admin.list_filter
        }
        searched = {name.lstrip("^=@").split("__")[0] for name in model_admin.search_fields}
        ordered = {name.lstrip("-").split("__")[0] for name in (model_admin.ordering or ())}
        shown = set(model_admin.list_display)
        assert not secrets & (filters | searched | ordered | shown | {model_admin.date_hierarchy}), model


@pytest.mark.parametrize("bad_id", [HUGE_ID, "-" + HUGE_ID, "abc", "1e3", "%20"])
def test_crafted_ids_are_a_missing_object(admin_client, stored, bad_id):
    base = "/admin/connectors/inveniasconnection"
    for url in (f"{base}/{bad_id}/change/", f"{base}/{bad_id}/history/", f"{base}/{bad_id}/delete/"):
        response = admin_client.get(url)
        assert response.status_code == 302, url  # Django's answer for a missing object
        assert "doesn’t exist" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert admin_client.get(f"/admin/connectors/connection/{bad_id}/change/").status_code == 302
    assert admin_client.post(f"{base}/{bad_id}/test-connection/").status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", HUGE_ID, ""])
def test_bulk_actions_refuse_malformed_ids(admin_client, stored, bad_id):
    response = admin_client.post(
        "/admin/connectors/connection/",
        {"action": "test_selected_connections", "_selected_action": [str(stored.pk), bad_id]},
    )
    assert response.status_code == 302
    assert "select again" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert not Connection.objects.get(pk=stored.pk).last_test_at  # nothing was tested


@pytest.mark.database
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_name_give_form_errors_not_server_errors():
    user = User.objects.create_superuser("racer", "r@example.com", "pw")
    attempts = 8
    barrier = threading.Barrier(attempts)
    statuses, errors = [], []

    def add():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        try:
            barrier.wait(timeout=30)
            response = client.post(add_url("inveniasconnection"), {**INVENIAS, "name": "Raced"})
            statuses.append(response.status_code)
            if response.status_code == 200:
                errors.append(str(response.context["adminform"].form.errors.get("name", "")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == sorted([302] + [200] * (attempts - 1)), (statuses, db.vendor)
    assert all("already named" in error for error in errors)
    assert InveniasConnection.objects.filter(name="Raced").count() == 1
