"""A bulk test survives a bad row (issue 16, found item 10): one connection whose stored secret no
configured key reads fails on its own; the others get their outcomes and the job finishes. And the
API honours a partner's cooldown (item 8): forced refreshes within a Retry-After make no request,
and a consumer's repeated tests reuse a fresh token."""

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


def test_forced_refreshes_honour_the_partners_retry_after(auth_server, fault_server):
    """Issue 16, found item 8: eight force_refresh handouts made eight token requests to a partner
    that had answered 429 with Retry-After: 3600."""
    from django.test import Client

    from connectors.store import apikeys

    fault_server.script(
        "/429-for-an-hour",
        429,
        {"Content-Type": "application/json", "Retry-After": "3600"},
        b'{"error": "too_many_requests"}',
    )
    connection = make_hypatos(
        auth_server, token_url=fault_server.url("/429-for-an-hour"), endpoint_url=fault_server.url("/v2")
    )
    _key, raw = apikeys.create("consumer", connections=[connection], may_obtain_tokens=True)
    client, fault_server_path = Client(), "/429-for-an-hour"
    fault_server.reset()
    answers = [
        client.post(
            f"/api/v1/connections/{connection.pk}/token",
            {"force_refresh": True},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        for _ in range(8)
    ]
    assert len(fault_server.requests_to(fault_server_path)) == 1
    first, later = answers[0].json(), answers[-1].json()
    assert first["kind"] == "rate_limited"
    assert later["kind"] == "renewal_backoff" and later["retry_at"]
    assert 3500 <= int(answers[-1]["Retry-After"]) <= 3600 * 1.25 + 1
    # The operator's Test Connection still asks at once: it is a person's deliberate try.


def test_api_tests_reuse_a_fresh_token(auth_server):
    """Issue 16, found item 8: a metadata-only key calling /test eight times made eight token
    requests."""
    from django.test import Client

    from connectors.store import apikeys

    connection = make_hypatos(auth_server)
    _key, raw = apikeys.create("reader", connections=[connection], may_obtain_tokens=False)
    auth_server.reset_stats()
    client = Client()
    answers = [
        client.post(f"/api/v1/connections/{connection.pk}/test", HTTP_AUTHORIZATION=f"Bearer {raw}") for _ in range(8)
    ]
    assert [answer.json()["passed"] for answer in answers] == [True] * 8
    assert auth_server.stats()["total"] == 1
