"""The per-host circuit of the renewal worker: when a partner host is down, its connections wait
instead of each timing out in turn.

After CIRCUIT_THRESHOLD failed renewals in a row at one host (only transient failures count: a
timeout, a refused connection, a 5xx, a 429), the circuit opens for a backoff step of its own
(connectors/engine/backoff.py: a minute, then doubled per failed probe up to an hour). While it is open the worker does not
call that host at all. When it has run out, one renewal at a time is let through as a probe
(a claim on the host's row, as for a connection's renewal): a success closes the circuit and the
others follow at the next sweep; another failure opens it for a longer step.

Callers of get_access_token() are not stopped by the circuit: they find the stored token while it
is valid and, past that, deserve a try of their own (bounded by the connection's own backoff).
"""

from urllib.parse import urlsplit

from django.db.models import F
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.engine import backoff, claims
from connectors.models import PartnerHost

CLAIM = {"by_field": "probe_claimed_by", "until_field": "probe_claim_expires_at"}


def host_key(token_url):
    """host[:port] of a token endpoint: the partner a renewal talks to."""
    parts = urlsplit(token_url or "")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if host and parts.port else host


def admit(host, holder, now=None):
    """May a renewal at `host` go ahead now? (True, probing): probing means the circuit is
    half-open and this renewal holds the one probe, to be given back through record()."""
    now = now or timezone.now()
    state = PartnerHost.objects.filter(host=host).first() if host else None
    if state is None or state.failures_in_row < app_settings.CIRCUIT_THRESHOLD:
        return True, False
    if state.open_until and state.open_until > now:
        return False, False
    taken = claims.take(PartnerHost.objects.filter(pk=state.pk), holder, now=now, **CLAIM)
    return taken, taken


def record(host, failure, holder, probing, now=None):
    """Count the outcome of a renewal at `host` (failure None for a success)."""
    if not host:
        return
    now = now or timezone.now()
    rows = PartnerHost.objects.filter(host=host)
    if failure is None or failure.kind not in backoff.TRANSIENT:
        # The host answered (even a refusal is an answer): the circuit closes. Read first: a
        # healthy host (nearly always) costs no write.
        failing = rows.exclude(failures_in_row=0, open_until=None)
        if failing.exists():
            failing.update(failures_in_row=0, probes_failed=0, open_until=None)
    else:
        PartnerHost.objects.get_or_create(host=host)
        rows.update(failures_in_row=F("failures_in_row") + 1, probes_failed=F("probes_failed") + int(probing))
        state = rows.first()
        if state.failures_in_row >= app_settings.CIRCUIT_THRESHOLD and (probing or state.open_until is None):
            # Opened for the first time, or a failed probe: the next backoff step. Failures of
            # renewals that were already under way when it opened do not lengthen it.
            wait = backoff.delay(state.probes_failed + 1, getattr(failure, "retry_after", None))
            rows.update(open_until=now + wait)
    if probing:
        claims.release(rows, holder, **CLAIM)


def open_hosts(now=None):
    """The hosts whose circuit is open right now (the sweep leaves their connections waiting)."""
    now = now or timezone.now()
    return set(
        PartnerHost.objects.filter(failures_in_row__gte=app_settings.CIRCUIT_THRESHOLD, open_until__gt=now).values_list(
            "host", flat=True
        )
    )
