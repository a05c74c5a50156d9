"""What the API's tests share: keys, and what every problem answer must be."""

from connectors.store import apikeys

JSON = {"Content-Type": "application/json"}


def key_for(*connections, tokens=True, **fields):
    api_key, raw_key = apikeys.create(
        fields.pop("name", "consumer"), connections=connections, may_obtain_tokens=tokens, **fields
    )
    return raw_key


def assert_problem(answer, status, slug):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "no-store" in answer.headers["Cache-Control"]
    body = answer.json()
    assert body["status"] == status and body["type"].endswith(f"/api/v1/problems/{slug}"), body
    assert body["title"] and body["detail"]
    assert "access_token" not in body
    return body
