"""Counts of token-endpoint requests, for tests that assert "fetched once".

The server is one process with many threads, so a lock-protected dict is
enough and costs no database writes.
"""

import threading
from collections import Counter

_lock = threading.Lock()
_by_grant_type = Counter()
_by_provider = Counter()
_revocations = Counter()  # RFC 7009 revocation requests, by provider
_client_authentication = Counter()  # "provider client_authentication" of each token request
_parameters = {}  # "provider endpoint" -> the recorded parameters of its last request


def record(provider, grant_type, client_authentication=""):
    with _lock:
        _by_grant_type[grant_type or "(missing)"] += 1
        _by_provider[provider] += 1
        _client_authentication[f"{provider} {client_authentication}"] += 1


def record_revocation(provider):
    with _lock:
        _revocations[provider] += 1


def record_parameters(provider, endpoint, parameters):
    with _lock:
        _parameters[f"{provider} {endpoint}"] = dict(parameters)


def snapshot():
    with _lock:
        return {
            "total": sum(_by_grant_type.values()),
            "by_grant_type": dict(_by_grant_type),
            "by_provider": dict(_by_provider),
            "revocations": dict(_revocations),
            "client_authentication": dict(_client_authentication),
            "parameters": dict(_parameters),
        }


def reset():
    with _lock:
        _by_grant_type.clear()
        _by_provider.clear()
        _revocations.clear()
        _client_authentication.clear()
        _parameters.clear()
