"""The ways into a connection, as the security tests drive them: the admin form, the Import page,
import_connections, the shell (the model, its provider's and the base one) and the API's Test.
Each "move" door tries to point stored URLs elsewhere; each "use" door then makes the connection
talk to its partner, so a test can check where its secrets and tokens went."""

import base64
import json
from io import StringIO
from urllib.parse import quote_plus

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from connectors.core import failures
from connectors.models import Connection
from connectors.store import apikeys, definitions
from tests.connections import generic_form, hypatos_form, invenias_form, inverbis_form

IMPORT_URL = "/admin/connectors/connection/import/"
FORMS = {
    "hypatosconnection": hypatos_form,
    "inveniasconnection": invenias_form,
    "genericconnection": generic_form,
}


def form_data(server, connection, **changes):
    """The change form of `connection` as stored, secrets left blank (blank keeps them), with
    `changes` typed over it."""
    model = connection._meta.model_name
    if model == "inverbisconnection":
        data = inverbis_form(server)
    else:
        data = FORMS[model](server)
    specific = type(connection).objects.get(pk=connection.pk)
    for name in data:
        if hasattr(specific, name) and name not in ("client_secret", "password"):
            data[name] = getattr(specific, name)
    data.update(client_secret="", password="")
    return {**data, **changes}


def document_moving(connection, **urls):
    document = definitions.export_document([type(connection).objects.get(pk=connection.pk)])
    document["connections"][0]["fields"].update(urls)
    return json.dumps(document)


# -- the doors that change a connection ----------------------------------------------------------


def move_by_form(context, connection, **urls):
    model = connection._meta.model_name
    return context.admin_client.post(
        f"/admin/connectors/{model}/{connection.pk}/change/", form_data(context.server, connection, **urls)
    )


def move_by_import_page(context, connection, **urls):
    text = document_moving(connection, **urls)
    upload = SimpleUploadedFile("definitions.json", text.encode(), content_type="application/json")
    dry_run = context.admin_client.post(IMPORT_URL, {"file": upload})
    assert dry_run.status_code == 200
    return context.admin_client.post(IMPORT_URL, {"document": text, "_apply": "1"})


def move_by_import_command(context, connection, **urls):
    path = context.tmp_path / "moved.json"
    path.write_text(document_moving(connection, **urls))
    out = StringIO()
    call_command("import_connections", str(path), "--apply", stdout=out, stderr=StringIO())
    return out.getvalue()


def move_in_the_shell(context, connection, **urls):
    stored = type(connection).objects.get(pk=connection.pk)
    for name, value in urls.items():
        setattr(stored, name, value)
    stored.full_clean()
    stored.save()


def move_on_the_base_model(context, connection, **urls):
    """The shell again, through the base model (which lacks the provider's own fields)."""
    stored = Connection.objects.get(pk=connection.pk)
    for name, value in urls.items():
        if hasattr(stored, name):
            setattr(stored, name, value)
    stored.save()


MOVES = {
    "form": move_by_form,
    "import page": move_by_import_page,
    "import command": move_by_import_command,
    "shell": move_in_the_shell,
    "shell, base model": move_on_the_base_model,
}


# -- the doors that use a connection -------------------------------------------------------------


def use_in_the_shell(context, connection):
    try:
        Connection.objects.get(pk=connection.pk).get_access_token(margin=10**8)  # renew now
    except failures.OAuthFailure:
        pass


def use_by_test_button(context, connection):
    model = type(connection.specific if type(connection) is Connection else connection)._meta.model_name
    answer = context.admin_client.post(
        f"/admin/connectors/{model}/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200


def use_by_api(context, connection):
    _key, raw = apikeys.create(f"consumer {connection.pk}", connections=[connection], may_obtain_tokens=True)
    client = Client()
    for path in ("test", "token"):
        answer = client.post(
            f"/api/v1/connections/{connection.pk}/{path}",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert answer.status_code < 500, answer.content[:300]


USES = (use_in_the_shell, use_by_test_button, use_by_api)


def use_everywhere(context, connection):
    for use in USES:
        use(context, connection)


# -- what reached a server -------------------------------------------------------------------------


def basic_credentials(client_id, secret):
    """The Authorization header a token request with these credentials carries (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def leaked(server_requests, *values):
    """Which of `values` appear in any request a server received (headers, query or body)."""
    seen = json.dumps(
        [
            {**request, "body": request["body"].decode("latin-1") if isinstance(request["body"], bytes) else ""}
            for request in server_requests
        ]
    )
    return [value for value in values if value and value in seen]


def run_import_command(*args):
    """(output, error) of import_connections called in-process."""
    out = StringIO()
    try:
        call_command("import_connections", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""
