"""Permission before any outbound request, and before any stored value is shown (issue 16, found
items 6 and 7): staff without the permission make the server fetch nothing (a discovery fetch was
a port probe) and see no field of a provider they may not view, through export or a dry run."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connectors.store import definitions
from tests.connections import generic_form, make_hypatos, make_invenias
from tests.security.doors import IMPORT_URL

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", ["add", "change"])
def test_no_discovery_fetch_before_the_permission_check(page, staff_factory, auth_server, fault_server):
    from tests.connections import make_generic

    viewer = client_of(staff_factory("viewer", "view_genericconnection", "view_connection"))
    url = "/admin/connectors/genericconnection/add/"
    if page == "change":
        url = f"/admin/connectors/genericconnection/{make_generic(auth_server).pk}/change/"
    fault_server.reset()
    # An issuer on another port of an allowed host, endpoints blank: saving would discover them.
    data = generic_form(auth_server, issuer_url=fault_server.url("/realms/probe"))
    assert viewer.post(url, data).status_code == 403
    assert fault_server.requests == []


def test_export_leaves_out_providers_the_user_may_not_view(staff_factory, auth_server):
    hypatos, invenias = make_hypatos(auth_server), make_invenias(auth_server)
    user = staff_factory("overview", "view_connection", "view_hypatosconnection")
    answer = client_of(user).post(
        "/admin/connectors/connection/",
        {"action": "export_selected", "_selected_action": [hypatos.pk, invenias.pk]},
    )
    document = json.loads(answer.content)
    assert [entry["name"] for entry in document["connections"]] == [hypatos.name]
    assert invenias.username not in answer.content.decode() and invenias.client_id not in answer.content.decode()


def test_the_dry_run_shows_nothing_of_a_provider_the_user_may_not_view(staff_factory, auth_server):
    invenias = make_invenias(auth_server)
    document = definitions.export_document([invenias])
    document["connections"][0]["fields"]["client_id"] = "changed-client"
    user = staff_factory("importer", "view_connection", "view_hypatosconnection", "change_hypatosconnection")
    upload = SimpleUploadedFile("d.json", json.dumps(document).encode(), content_type="application/json")
    answer = client_of(user).post(IMPORT_URL, {"file": upload})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "You may not view connections of this provider" in page
    assert invenias.client_id not in page and invenias.username not in page
    assert not answer.context["can_apply"]
