"""The app's settings: one namespaced dict, `settings.PARTNER_CONNECTIONS`, with defaults.

Read as `from connectors.core.app_settings import app_settings; app_settings.HTTP_TIMEOUT`. Unknown keys
are rejected (a typo must not silently fall back to a default), and the values are re-read when
tests change the setting.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from connectors.core.validators import split_host_entry

DEFAULTS = {
    # Base of the callback URL registered at providers, e.g. https://connections.example.com
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    # Host patterns beyond each provider's own that connections may reach; `*` is one DNS label.
    "EXTRA_ALLOWED_HOSTS": [],
    # Seconds allowed for connecting to and reading from a partner, per request.
    "HTTP_TIMEOUT": 10,
    # Seconds allowed for an RFC 7009 revocation, which never holds up a deletion or a new
    # authorization: a slow or failing answer is recorded and the operation goes on.
    "REVOCATION_TIMEOUT": 5,
    # Largest response body read from a partner, in bytes; a larger one is refused unread.
    "MAX_RESPONSE_BYTES": 1024 * 1024,
    # A token is refreshed (or re-requested) this many seconds before it expires.
    "REFRESH_MARGIN_SECONDS": 120,
    # Lifetime assumed when a token response has no expires_in: short, never "forever".
    "DEFAULT_EXPIRES_IN": 300,
    # How long an authorization started with Generate may take before its state expires.
    "STATE_MAX_AGE_SECONDS": 600,
    # Connections tested at once by the bulk test (admin action, test_connections command): each
    # test mostly waits on the partner, so a few threads cut the wall time; the bound keeps one
    # run from opening hundreds of sockets and database connections.
    "TEST_WORKERS": 8,
    # Requests one API key may make per window (connectors/api/ratelimit.py); 0 turns the limit
    # off. Counted in Django's cache: per process with the default local-memory cache.
    "API_RATE_LIMIT": 600,
    # The length of that window, in seconds.
    "API_RATE_LIMIT_WINDOW_SECONDS": 60,
    # Authorization-code connections are refreshed at least this often (seconds), even when their
    # access token lives longer: Keycloak-style servers expire a refresh token left unused for a
    # while ("SSO Session Idle"), so an idle connection would otherwise die quietly.
    "REFRESH_AT_LEAST_EVERY": 12 * 3600,
    # How often (seconds) the worker's sweep looks for renewals that are due and were missed (a
    # restart, a lost task); each stored token also schedules its own renewal.
    "SWEEP_INTERVAL_SECONDS": 60,
    # Renewals run at once inside one worker task: each mostly waits on a partner, so threads
    # cut the wall time; the bound keeps one task from opening hundreds of sockets, and (16 rather
    # than 25) keeps an operator's save on SQLite from queueing behind many writers (README).
    "RENEWAL_WORKERS": 16,
    # Due connections one worker claims at once (one short write), renewed on its RENEWAL_WORKERS
    # threads; the next batch is claimed while the threads still work on this one.
    "RENEWAL_BATCH_SIZE": 50,
    # Token requests in flight at one partner host per worker process, for providers that
    # declare no limit of their own (connectors/engine/host_limits.py).
    "RENEWAL_HOST_CONCURRENCY": 16,
    # Per partner host, what the worker may do there, overriding the provider's default:
    # {"host or pattern": {"concurrency": 4, "calls": 1500, "per_seconds": 300}}; `*` stands for
    # one DNS label, a port may be pinned (`127.0.0.1:8765`). `calls` per `per_seconds` is kept by
    # all workers together; `concurrency` by each worker process.
    "PARTNER_HOST_LIMITS": {},
    # Backoff after a failed renewal (seconds): the first wait, doubled per attempt up to the
    # last; a 429's Retry-After is honoured when longer.
    "BACKOFF_FIRST_SECONDS": 60,
    "BACKOFF_MAX_SECONDS": 3600,
    # After this many failed renewals in a row at one partner host, the host's other connections
    # wait (one probe at a time) until the host answers again, instead of each timing out.
    "CIRCUIT_THRESHOLD": 5,
    # Admins are mailed when a connection has failed to renew for this long (seconds), once per
    # episode (and at once when it needs reauthorization).
    "ALERT_AFTER": 3600,
    # Events older than this many days are pruned by the worker, but the newest
    # EVENT_KEEP_PER_CONNECTION of each connection are always kept.
    "EVENT_RETENTION_DAYS": 90,
    "EVENT_KEEP_PER_CONNECTION": 50,
}


def _check_port_part(entry):
    """An entry's port part is a port or a range `first-last` (1-65535): a typo must not quietly
    allow nothing, or everything."""
    if split_host_entry(entry)[1] is None:
        raise ImproperlyConfigured(
            f"EXTRA_ALLOWED_HOSTS entry {entry!r}: write host, host:port or host:first-last "
            "(a port range, e.g. 127.0.0.1:1024-65535)."
        )


class AppSettings:
    def __init__(self):
        self._cache = None

    def _load(self):
        configured = getattr(settings, "PARTNER_CONNECTIONS", {}) or {}
        unknown = sorted(set(configured) - set(DEFAULTS))
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown keys in PARTNER_CONNECTIONS: {', '.join(unknown)}; known keys: {', '.join(sorted(DEFAULTS))}"
            )
        values = {**DEFAULTS, **configured}
        values["PUBLIC_BASE_URL"] = str(values["PUBLIC_BASE_URL"]).rstrip("/")
        values["EXTRA_ALLOWED_HOSTS"] = [host.strip().lower() for host in values["EXTRA_ALLOWED_HOSTS"] if host.strip()]
        for entry in values["EXTRA_ALLOWED_HOSTS"]:
            if ":" in entry and not entry.startswith("["):
                _check_port_part(entry)
        return values

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(name)
        if self._cache is None:
            self._cache = self._load()
        return self._cache[name]

    def reload(self):
        self._cache = None


app_settings = AppSettings()


def _reload_on_change(*, setting, **kwargs):
    if setting == "PARTNER_CONNECTIONS":
        app_settings.reload()


setting_changed.connect(_reload_on_change)
