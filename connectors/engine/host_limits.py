"""How hard the renewal worker presses one partner host: a gate per host.

Each renewal passes its host's gate before it calls the partner:
- a rate, kept by every worker together: the host's row (PartnerHost.rate_next_at) holds the
  earliest moment the next token request may start; a worker reserves evenly spaced start times
  for a whole batch of renewals at that host with one conditional UPDATE (optimistic: retried when
  another worker reserved in between), so no burst of any number of workers exceeds the rate;
- a concurrency, kept by each worker process: a semaphore of `concurrency` per host.

The limit comes from the provider (Provider.renewal_limit, what its partner documents; for the
others RENEWAL_HOST_CONCURRENCY in flight and no rate), and PARTNER_HOST_LIMITS overrides it per
host or host pattern.
"""

import threading
import time
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.core.validators import host_matches
from connectors.models import PartnerHost
from connectors.partners.providers.base import PartnerLimit

# How often a reservation is retried when other workers reserve at the same host meanwhile.
RESERVE_ATTEMPTS = 20
KNOWN_KEYS = {"concurrency", "calls", "per_seconds"}


def _configured(pattern, values, base):
    unknown = sorted(set(values) - KNOWN_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"PARTNER_HOST_LIMITS[{pattern!r}]: unknown keys {', '.join(unknown)}; known keys: "
            f"{', '.join(sorted(KNOWN_KEYS))}"
        )
    limit = PartnerLimit(
        concurrency=int(values.get("concurrency", base.concurrency)),
        calls=int(values.get("calls", base.calls)),
        per_seconds=float(values.get("per_seconds", base.per_seconds)),
    )
    if (
        limit.concurrency < 1
        or limit.calls < 0
        or limit.per_seconds < 0
        or bool(limit.calls) != bool(limit.per_seconds)
    ):
        raise ImproperlyConfigured(
            f"PARTNER_HOST_LIMITS[{pattern!r}]: concurrency must be at least 1, and calls and per_seconds "
            "positive together (or both left out for no rate limit)."
        )
    return limit


def _pattern_matches(pattern, host_key):
    pattern = pattern.strip().lower()
    if pattern == host_key:
        return True
    host, _, port = host_key.partition(":")
    wanted, _, wanted_port = pattern.partition(":")
    return (not wanted_port or wanted_port == port) and host_matches(host, wanted)


def limit_for(host_key, provider=None):
    """The PartnerLimit at `host_key` (host[:port], circuit.host_key) for a connection of `provider`."""
    base = (provider.renewal_limit if provider is not None else None) or PartnerLimit(
        concurrency=app_settings.RENEWAL_HOST_CONCURRENCY
    )
    for pattern, values in app_settings.PARTNER_HOST_LIMITS.items():
        if _pattern_matches(pattern, host_key):
            return _configured(pattern, values, base)
    return base


class HostGates:
    """One worker process's gates, one per host (created when first needed): a semaphore for the
    concurrency and, for a host with a rate, a turnstile that lets one request start at a time,
    each at its reserved moment and at least `spacing` after the one before in this process (a
    thread the machine woke late does not start together with the next one)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._gates = {}

    def _gate(self, host_key, limit):
        with self._lock:
            gate = self._gates.get(host_key)
            if gate is None or gate["limit"] != limit:
                gate = self._gates[host_key] = {
                    "limit": limit,
                    "semaphore": threading.BoundedSemaphore(limit.concurrency),
                    "turnstile": threading.Lock(),
                    "last": None,
                }
            return gate

    def semaphore(self, host_key, limit):
        return self._gate(host_key, limit)["semaphore"]

    def wait_turn(self, host_key, limit, start_at):
        """Return when a request at `host_key` may start: not before `start_at` (its reserved
        moment, or None) nor `spacing` after this process's previous start there."""
        if start_at is None or not limit.spacing:
            return
        gate = self._gate(host_key, limit)
        with gate["turnstile"]:
            wait_until(start_at)
            if gate["last"] is not None:
                remaining = gate["last"] + limit.spacing - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)
            gate["last"] = time.monotonic()


GATES = HostGates()


def reserve(host_key, limit, count, now=None):
    """Start times for `count` token requests at `host_key` that keep to `limit`'s rate, shared
    with every other worker; [] when the host has no rate limit (start at once)."""
    spacing = limit.spacing
    if not spacing or not count or not host_key:
        return []
    step = timedelta(seconds=spacing)
    PartnerHost.objects.get_or_create(host=host_key)
    rows = PartnerHost.objects.filter(host=host_key)
    for _attempt in range(RESERVE_ATTEMPTS):
        now = timezone.now()
        current = rows.values_list("rate_next_at", flat=True).first()
        start = max(current, now) if current else now
        # Conditional on the value read: a worker that reserved meanwhile makes this match nothing.
        matched = rows.filter(rate_next_at=current) if current else rows.filter(rate_next_at__isnull=True)
        if matched.update(rate_next_at=start + step * count):
            return [start + step * n for n in range(count)]
    raise TimeoutError(f"could not reserve renewal slots at {host_key}")


def wait_until(moment):
    """Sleep until `moment` (an aware datetime) has come."""
    if moment is None:
        return
    seconds = (moment - timezone.now()).total_seconds()
    if seconds > 0:
        time.sleep(seconds)
