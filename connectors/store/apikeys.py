"""API keys of the token API: making one, finding the key behind a bearer value, and what a key
may see.

A key reads `pc_<prefix>_<secret>`: the prefix (8 random characters) finds the row, the secret (32
random bytes) proves possession. Only the SHA-256 of the whole key is stored. A fast hash is
right here, unlike for passwords: the key is 256 bits of randomness, so nobody can guess it back
from a stolen hash however fast the hash is, while a deliberately slow hash (PBKDF2, Argon2) would
cost every API request tens of milliseconds and give an attacker a cheap way to load the server.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from connectors.models import ApiKey, Connection

KEY_START = "pc_"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per key, so a busy consumer does not turn every read
# into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(raw_key):
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def new_raw_key():
    """(raw key, its prefix). The prefix has no '_' so it can be split off again."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}", prefix


def issue(api_key):
    """Give `api_key` (saved or not) a fresh key: sets prefix and hash, returns the raw key, which
    exists nowhere else afterwards. The caller saves."""
    raw_key, api_key.key_prefix = new_raw_key()
    api_key.key_hash = hash_key(raw_key)
    return raw_key


def create(name, *, connections=(), providers=(), may_obtain_tokens=False, expires_at=None):
    """A new, validated key; returns (ApiKey, raw key)."""
    api_key = ApiKey(name=name, providers=list(providers), may_obtain_tokens=may_obtain_tokens, expires_at=expires_at)
    raw_key = issue(api_key)
    api_key.full_clean()
    api_key.save()
    api_key.connections.set(connections)
    return api_key, raw_key


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of checking a bearer value: the key, or why there is none (`problem`)."""

    api_key: ApiKey | None = None
    problem: str = ""


def check(raw_key, now=None):
    """Find the key behind a bearer value; refuses unknown, revoked and expired keys."""
    now = now or timezone.now()
    prefix = prefix_of(raw_key)
    try:
        api_key = ApiKey.objects.get(key_prefix=prefix) if prefix else None
    except ApiKey.DoesNotExist:
        api_key = None
    # Compared in constant time, and a hash is computed even without a row, so the answer's timing
    # does not tell a valid prefix from an invalid one.
    candidate = hash_key(raw_key)
    if api_key is None or not hmac.compare_digest(candidate, api_key.key_hash):
        return KeyCheck(problem="invalid")
    if api_key.revoked_at is not None:
        return KeyCheck(problem="revoked")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return KeyCheck(problem="expired")
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return KeyCheck(api_key=api_key)


def prefix_of(raw_key):
    if not raw_key.startswith(KEY_START):
        return ""
    prefix, separator, _rest = raw_key[len(KEY_START) :].partition("_")
    return prefix if separator and len(prefix) == PREFIX_LENGTH else ""


def visible_to(api_key):
    """A filter on Connection for the connections `api_key` may see."""
    # A subquery, not a join: a join would repeat a connection once per key that lists it.
    linked = ApiKey.connections.through.objects.filter(apikey=api_key).values("connection_id")
    return Q(pk__in=linked) | Q(provider__in=api_key.providers or [])


def connections_for(api_key):
    """The connections `api_key` may see (a queryset of Connection)."""
    return Connection.objects.filter(visible_to(api_key))


def state_of(api_key, now=None):
    """'revoked', 'expired' or 'active'."""
    now = now or timezone.now()
    if api_key.revoked_at is not None:
        return "revoked"
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return "expired"
    return "active"
