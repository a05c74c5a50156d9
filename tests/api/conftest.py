"""The API's tests run against the live test server through a real HTTP client (requests)."""

import pytest
import requests
from django.core.cache import cache


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """Started once the test database exists (see tests/browser/conftest.py for why)."""
    return live_server


@pytest.fixture
def api(live_server, settings):
    """A small client of /api/v1/ on the live server."""
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "PUBLIC_BASE_URL": live_server.url}
    cache.clear()  # the rate limit's counters

    class Api:
        base = f"{live_server.url}/api/v1"
        answers = []  # every answer, to search them for tokens

        def request(self, method, path, key=None, **kwargs):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            headers.update(kwargs.pop("headers", {}))
            answer = requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)
            self.answers.append(answer)
            return answer

        def token(self, connection_id, key, **body):
            return self.request("POST", f"/connections/{connection_id}/token", key, json=body)

    return Api()
