"""The served OpenAPI document against the API itself: schemathesis generates requests from the
document (valid and invalid ones) and checks every answer against it. Run with a key that may
obtain tokens, a key that may read metadata only, and no key; it must find nothing."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from connectors.store import apikeys
from tests.connections import make_hypatos, make_invenias

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.parametrize("key", ["tokens", "metadata", "none"])
def test_schemathesis_finds_nothing(live_server, auth_server, settings, key, tmp_path):
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "PUBLIC_BASE_URL": live_server.url,
        "API_RATE_LIMIT": 10**6,
    }
    cache.clear()
    hypatos = make_hypatos(auth_server)
    invenias = make_invenias(auth_server)
    hypatos.get_access_token()
    headers = []
    if key != "none":
        _api_key, raw_key = apikeys.create(key, connections=[hypatos, invenias], may_obtain_tokens=key == "tokens")
        headers = ["--header", f"Authorization: Bearer {raw_key}"]

    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{live_server.url}/api/v1/openapi.json", *headers]
        + ["--checks", "all", "--max-examples", "30", "--workers", "1", "--seed", "19"]
        + ["--report-dir", str(tmp_path), "--no-color"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its cache folder (.schemathesis/) lands there, not in the working tree
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
