"""Validation of what operators type: each function raises ValidationError with a message that
says what is wrong and what is expected, and never echoes a secret."""

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from connectors.core import text

# One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters, ASCII only
# so that look-alike letters from other scripts cannot point a connection somewhere else.
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# A Keycloak realm name as it appears in a URL path segment.
REALM = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9_-])?\Z")
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+\Z")
MAX_URL_LENGTH = 500
LOOPBACK_NAMES = {"localhost"}


def reject_control_characters(value):
    """Refuse line breaks, tabs and every other control, format or separator character (Unicode
    categories Cc, Cf, Cs, Zl, Zp: bidi overrides, zero-width and tag characters included)."""
    if text.refused_characters(value):
        raise ValidationError(
            _(
                "Remove line breaks, tabs and invisible characters (control, formatting or bidirectional "
                "characters such as U+202E): they can make the text read differently from what is stored."
            ),
            code="control_character",
        )


def validate_dns_label(value):
    if not DNS_LABEL.match(value):
        raise ValidationError(
            _(
                "Enter one DNS label: letters a-z, digits and inner hyphens, at most 63 characters, "
                "no dots, slashes or spaces (for example “company”)."
            ),
            code="dns_label",
        )


def validate_realm(value):
    if not REALM.match(value):
        raise ValidationError(
            _(
                "Enter the realm name only: letters, digits, “-”, “_” or “.”, at most 100 "
                "characters, no slashes or spaces (for example “acme”)."
            ),
            code="realm",
        )


def normalize_scope(value):
    """Collapse runs of spaces and validate each scope token; returns the normalized scope."""
    tokens = value.split(" ")
    tokens = [token for token in tokens if token]
    for token in tokens:
        if not SCOPE_TOKEN.match(token):
            raise ValidationError(
                _(
                    "Scopes are separated by single spaces and may not contain quotes, backslashes "
                    "or non-ASCII characters."
                ),
                code="scope",
            )
    return " ".join(tokens)


def host_matches(host, pattern):
    """Match a host name against a pattern in which `*` stands for exactly one DNS label."""
    host_labels, pattern_labels = host.split("."), pattern.split(".")
    if len(host_labels) != len(pattern_labels):
        return False
    return all(p == "*" or p == h for h, p in zip(host_labels, pattern_labels, strict=True))


def is_host_name(host):
    """Plain DNS labels (ASCII letters, digits, inner hyphens) or an IP address."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return all(DNS_LABEL.match(label) for label in host.split("."))


def host_of(url):
    """The lower-case host of a URL, or "" when it has none or is malformed."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url):
    """(scheme, host, effective port) of a URL: where credentials sent to it actually go. Two
    URLs are the same place only when all three agree; None when the URL is malformed."""
    try:
        parts = urlsplit(url or "")
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme)


def split_host_entry(entry):
    """An EXTRA_ALLOWED_HOSTS entry, `host-pattern`, `host-pattern:port` or
    `host-pattern:first-last`, as (pattern, (first, last) or None). Without a port the entry
    allows only the scheme's default port (443 for https): other ports of a host are other
    services, and each is named on purpose. A port part that is not a port or range is left in
    the pattern, which then matches no host (app_settings refuses such entries at start-up)."""
    pattern, separator, ports = entry.rpartition(":")
    if not separator or not pattern or pattern.endswith(":"):
        return entry, None
    first, dash, last = ports.partition("-")
    last = last if dash else first
    if not (first.isascii() and first.isdigit() and last.isascii() and last.isdigit()):
        return entry, None
    if not 0 < int(first) <= int(last) <= 65535:
        return entry, None
    return pattern, (int(first), int(last))


def extra_host_allows(entries, host, port, default_port=443):
    """True when an EXTRA_ALLOWED_HOSTS entry admits this host on this (effective) port; an entry
    without a port admits only `default_port`, the URL's scheme's own."""
    for entry in entries:
        pattern, ports = split_host_entry(entry)
        first, last = ports or (default_port, default_port)
        if host_matches(host, pattern) and first <= (port or default_port) <= last:
            return True
    return False


def is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_outbound_url(value, provider_hosts, extra_hosts):
    """A URL a connection will send credentials to: https, well formed, on an allowed host.

    Plain http is accepted only for a loopback host that the settings list as an extra host (the
    local test server), never for a partner's host.
    """
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(
            ngettext("Use at most %(count)d character.", "Use at most %(count)d characters.", MAX_URL_LENGTH)
            % {"count": MAX_URL_LENGTH},
            code="too_long",
        )
    if not value.isascii():
        raise ValidationError(
            _("Use only ASCII characters in the URL; look-alike letters from other scripts are refused."),
            code="non_ascii",
        )
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise ValidationError(_("Enter a well-formed URL such as https://host/path."), code="url") from None
    if parts.scheme not in ("https", "http") or not is_host_name(host) or any(c in value for c in " \\%"):
        # Backslashes and escapes read differently in browsers and HTTP clients; a host is plain
        # DNS labels or an IP address.
        # Not "starting with https://": the same words meet an allowed http sandbox URL.
        raise ValidationError(_("Enter a well-formed URL such as https://host/path."), code="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(_("Do not put a user name or password in the URL."), code="userinfo")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValidationError(_("Remove the query string or fragment (“?…”, “#…”)."), code="query")
    effective_port = port if port is not None else DEFAULT_PORTS.get(parts.scheme)
    on_extra_host = extra_host_allows(extra_hosts, host, effective_port, DEFAULT_PORTS[parts.scheme])
    on_provider_host = any(host_matches(host, pattern) for pattern in provider_hosts)
    if not (on_provider_host or on_extra_host):
        if not provider_hosts:
            raise ValidationError(
                _("The host “%(host)s” is not allowed: an administrator adds it to EXTRA_ALLOWED_HOSTS.")
                % {"host": host},
                code="host",
            )
        allowed = ", ".join(provider_hosts)
        raise ValidationError(
            _("The host “%(host)s” is not one of this provider's hosts (%(allowed)s).")
            % {"host": host, "allowed": allowed},
            code="host",
        )
    if parts.scheme == "http" and not (on_extra_host and is_loopback(host)):
        raise ValidationError(_("Use https:// — plain http would expose credentials."), code="https")
    if port not in (None, 443) and not on_extra_host:
        raise ValidationError(_("Remove the port: partners are reached on the standard https port."), code="port")
    return value
