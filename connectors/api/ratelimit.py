"""The rate limit per API key: a fixed window counted in Django's cache.

Written here rather than taken from django-ninja's throttles: those keep each client's request
history as one list that every request reads and writes back, so concurrent requests of the same
key (the very case to limit) overwrite each other's entries. `cache.add` + `cache.incr` count
atomically in the local-memory cache, Redis and Memcached. The count is per cache: with the
default local-memory cache each server process counts on its own (README, API).
"""

import time

from django.core.cache import cache
from ninja.throttling import BaseThrottle

from connectors.core.app_settings import app_settings


def _window():
    return max(1, int(app_settings.API_RATE_LIMIT_WINDOW_SECONDS))


class PerKeyThrottle(BaseThrottle):
    """At most API_RATE_LIMIT requests per key in each window of API_RATE_LIMIT_WINDOW_SECONDS."""

    def allow_request(self, request):
        limit = app_settings.API_RATE_LIMIT
        api_key = getattr(request, "auth", None)
        if not limit or api_key is None:
            return True
        window = _window()
        slot = int(time.time() // window)
        name = f"connectors:api-rate:{api_key.pk}:{slot}"
        # Incremented first: the window's entry exists for all but its first request, so the
        # common case is one cache operation.
        try:
            count = cache.incr(name)
        except ValueError:  # the window's first request (or its entry just expired)
            count = 1 if cache.add(name, 1, timeout=window + 1) else cache.incr(name)
        return count <= limit

    def wait(self):
        # Kept stateless (one instance serves every thread): the rest of the current window.
        window = _window()
        return window - (time.time() % window)
