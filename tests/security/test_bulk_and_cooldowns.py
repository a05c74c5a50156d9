"""A bulk test survives a bad row (issue 16, found item 10): one connection whose stored secret no
configured key reads fails on its own; the others get their outcomes and the job finishes."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection as db

from tests.connections import make_hypatos

# The bulk run tests on worker threads, each with its own database connection.
pytestmark = pytest.mark.django_db(transaction=True)


def make_unreadable(pk):
    """The client secret as another installation's key wrote it (a key that was dropped)."""
    foreign = Fernet(Fernet.generate_key()).encrypt(b"someone-elses-secret").decode()
    with db.cursor() as cursor:
        cursor.execute("UPDATE connectors_connection SET client_secret = %s WHERE id = %s", [foreign, pk])


def test_one_unreadable_secret_fails_only_its_own_connection(admin_client, auth_server):
    from tests.worker import run_ready_tasks

    healthy, broken = make_hypatos(auth_server), make_hypatos(auth_server, name="Hypatos broken")
    started = admin_client.post(
        "/admin/connectors/connection/",
        {"action": "test_selected_connections", "_selected_action": [healthy.pk, broken.pk]},
    )
    assert started.status_code == 302 and "/bulk-test/" in started["Location"]
    make_unreadable(broken.pk)  # the key was rotated away between the click and the run
    run_ready_tasks()
    progress = admin_client.get(started["Location"] + "progress/").json()
    assert progress["finished"] and (progress["done"], progress["passed"], progress["failed"]) == (2, 1, 1)
    assert progress["failures"][0]["name"] == "Hypatos broken"
    assert "UnreadableSecret" in progress["failures"][0]["sentence"]
    assert admin_client.get(started["Location"]).status_code == 200
