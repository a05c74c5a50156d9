"""How token state and test results read to a person: badges, expiry in words, whom a token is
for, and each connection's next action. The state itself comes from connectors/store/health.py."""

import hashlib

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

from connectors.core import sentences
from connectors.partners import grants
from connectors.store.health import Health, health_of

# Healths in which the stored token cannot be used: its expiry and an older passing test would
# read as if it could.
UNUSABLE = (Health.NEEDS_REAUTHORIZATION,)
# Healths in which an older passing test no longer speaks for the connection.
PASS_OUTDATED = (Health.NEEDS_REAUTHORIZATION, Health.REFUSED, Health.CHANGED)


def expiry_in_words(connection, now=None):
    if not connection.has_token or connection.token_expires_at is None:
        return _("no token")
    now = now or timezone.now()
    if health_of(connection, now).code in UNUSABLE:
        return _("not usable")
    if connection.token_expires_at <= now:
        return _("expired")
    return _("in %(duration)s") % {"duration": timeuntil(connection.token_expires_at, now, depth=1)}


def status_text(connection, now=None):
    """The badge's words and tone, from the connection's one health (connectors/store/health.py). The
    words start with the health's label, the same word as in the status filter."""
    state = health_of(connection, now)
    if state.code == Health.AUTHORIZED:
        return _("%(label)s (expires %(when)s)") % {
            "label": state.label,
            "when": expiry_in_words(connection, now),
        }, state.tone
    if state.code == Health.READY:
        return _("%(label)s (token on demand)") % {"label": state.label}, state.tone
    if state.code == Health.RENEWAL_FAILING:
        return _renewal_failing_text(connection, state, now), state.tone
    if state.code == Health.REFUSED:
        fields = refusal_fields_in_words(connection)
        if fields:
            return _("%(label)s (check %(fields)s)") % {"label": state.label, "fields": fields}, state.tone
    return str(state.label), state.tone


def refusal_fields_in_words(connection):
    """ "Client ID, Client Secret": the fields the provider's refusal points at, as the form
    labels them."""
    names = (getattr(connection, "refusal", None) or {}).get("fields") or []
    # The provider's model knows its own fields (a password, a tenant); the overview's rows are
    # base connections with their provider's row joined in (runner.with_provider_fields).
    model = type(connection.specific) if names else type(connection)
    labels = []
    for name in names:
        try:
            labels.append(capfirst(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            continue
    return ", ".join(str(label) for label in labels)


def refusal_in_words(connection):
    """The provider's refusal of the saved settings, as the sentence the operator saw."""
    stored = (getattr(connection, "refusal", None) or {}).get("sentence")
    return sentences.sentence_from(stored, "") if stored else ""


def explanation(connection, now=None):
    """The badge's tooltip: why the state is what it is (a refusal's own sentence)."""
    state = health_of(connection, now)
    if state.code == Health.REFUSED and refusal_in_words(connection):
        return f"{refusal_in_words(connection)} {state.explanation}"
    return str(state.explanation)


def _renewal_failing_text(connection, state, now=None):
    """ "renewal failing (3 attempts, next try in 4 minutes)", from the renewal engine's facts
    where they exist."""
    details = []
    attempts = getattr(connection, "renewal_attempts", None)
    if attempts:
        details.append(ngettext("%(count)d attempt", "%(count)d attempts", attempts) % {"count": attempts})
    next_try = getattr(connection, "next_renewal_at", None)
    now = now or timezone.now()
    if next_try and next_try > now:
        details.append(_("next try in %(duration)s") % {"duration": timeuntil(next_try, now, depth=1)})
    if not details:
        return str(state.label)
    return f"{state.label} ({', '.join(str(detail) for detail in details)})"


def status_badge(connection, now=None):
    text, tone = status_text(connection, now)
    state = health_of(connection, now)
    return format_html(
        '<span class="pc-badge pc-badge--{}" data-health="{}" title="{}">{}</span>',
        tone,
        state.code.value,
        explanation(connection, now),
        text,
    )


def last_test_cell(connection, now=None):
    """The outcome and how long ago, as a badge; the stored sentence is the tooltip."""
    if connection.last_test_at is None:
        return format_html('<span class="pc-badge pc-badge--muted">{}</span>', _("never tested"))
    now = now or timezone.now()
    recent = (now - connection.last_test_at).total_seconds() < 60
    ago = (
        _("just now")
        if recent
        else _("%(duration)s ago") % {"duration": timesince(connection.last_test_at, now, depth=1)}
    )
    code = health_of(connection, now).code
    if connection.last_test_passed and code in PASS_OUTDATED:
        # A pass from before the provider stopped accepting the authorization or the settings,
        # or before the settings changed, says nothing now.
        outcome, tone = _("outdated"), "muted"
        title = {
            Health.NEEDS_REAUTHORIZATION: _(
                "Passed before the provider stopped accepting the authorization: click Regenerate."
            ),
            Health.REFUSED: _("Passed before the provider refused the settings: correct them."),
            Health.CHANGED: _("Passed before the settings were changed: test again."),
        }[code]
    else:
        outcome, tone = (_("passed"), "ok") if connection.last_test_passed else (_("failed"), "danger")
        title = last_test_in_words(connection)
    return format_html(
        '<span class="pc-badge pc-badge--{}" title="{}">{}</span> <span class="pc-when">{}</span>',
        tone,
        title,
        outcome,
        ago,
    )


def fingerprint(token):
    """A short, non-reversible label to tell tokens apart without showing them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


def account_of(connection):
    """Whom a token is for, as the provider knows them: the grant says (the user who authorized,
    read from userinfo after Generate; the username; the client ID)."""
    return grants.of(connection).account_of(connection)


def scopes_of(connection):
    """The scopes the provider granted with the stored token (the requested ones for tokens
    fetched on demand that are not stored yet)."""
    if connection.has_token and connection.token_scope:
        return connection.token_scope
    if grants.of(connection).token_on_demand:
        return connection.scope
    return ""


def token_cell_words(connection, now=None):
    """The Token column's first line: when the token expires, or that tokens come on demand."""
    if not connection.has_token and grants.of(connection).token_on_demand:
        return _("on demand")
    return expiry_in_words(connection, now)


def token_for_cell(connection):
    """ "for operator · openid offline_access": whom and what the token is for, in one line."""
    account, scopes = account_of(connection), scopes_of(connection)
    parts = []
    if account:
        parts.append(format_html('<span class="pc-account">{}</span>', _("for %(account)s") % {"account": account}))
    if scopes:
        parts.append(format_html('<span class="pc-scopes">{}</span>', scopes))
    return format_html_join(" · ", "{}", ((part,) for part in parts))


def token_summary(connection):
    if not connection.has_token:
        parts = [_("No token.")]
        if connection.status_reason:
            parts.append(_sentence(reason_in_words(connection)))
        return " ".join(str(part) for part in parts)
    parts = [_("Fingerprint %(fingerprint)s") % {"fingerprint": fingerprint(connection.access_token)}]
    if connection.token_obtained_at:
        parts.append(
            _("obtained %(when)s") % {"when": f"{timezone.localtime(connection.token_obtained_at):%Y-%m-%d %H:%M}"}
        )
    if health_of(connection).code in UNUSABLE:
        parts.append(_("not usable"))
    else:
        parts.append(_("expires %(when)s") % {"when": expiry_in_words(connection)})
    parts.append(_("refresh token stored") if connection.refresh_token else _("no refresh token"))
    text = "; ".join(str(part) for part in parts) + "."
    if connection.status_reason:
        text += " " + _sentence(reason_in_words(connection))
    return text


def token_details(connection):
    """The account and scopes of the stored token, as labelled lines for the change page."""
    rows = []
    account = account_of(connection)
    if account:
        rows.append((_("Account"), account))
    scopes = scopes_of(connection)
    if scopes:
        rows.append((_("Granted scopes") if connection.has_token else _("Scopes"), scopes))
    return format_html_join("", '<div class="pc-token-detail"><span class="pc-token-term">{}:</span> {}</div>', rows)


def reason_in_words(connection):
    """The connection's status reason in the reader's language: the reasons are stored as their
    English msgid (gettext_noop where they are set), so gettext() finds their translation."""
    return gettext(connection.status_reason) if connection.status_reason else ""


def last_test_in_words(connection):
    """The last test's sentence in the reader's language (the stored English text of old rows)."""
    return sentences.sentence_from(connection.last_test_sentence, connection.last_test_message)


def _sentence(text):
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


# -- the next action of a row --------------------------------------------------------------


def next_action(connection, now=None):
    """(kind, label) of what the operator should do next: "generate" opens the OAuth 2.0 tab
    where the Generate button is, "test" runs Test Connection on the saved settings."""
    code = health_of(connection, now).code
    if code == Health.NEEDS_REAUTHORIZATION:
        return "generate", _("Regenerate")
    if code == Health.NOT_AUTHORIZED:
        return "generate", _("Generate")
    if code == Health.REFUSED:
        return "settings", _("Fix settings")
    # Only a grant whose operator logs in needs them for a new token (authorization code).
    logs_in = grants.of(connection).operator_logs_in
    if code == Health.EXPIRED and not connection.refresh_token and logs_in:
        return "generate", _("Regenerate")
    if code == Health.TEST_FAILED:
        if not connection.has_token and logs_in:
            return "generate", _("Generate")  # nothing to test before the operator logs in
        return "test", _("Test again")
    return "test", _("Test")


def next_action_cell(connection, can_change, now=None):
    """The row's action: a link to the OAuth 2.0 tab, or a Test button. The button submits the
    changelist form (CSRF token included) to the connection's own Test Connection URL, which
    answers with a message on the overview; so it works without JavaScript."""
    specific = connection.specific
    opts = specific._meta
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk])
    if not can_change:
        return format_html('<a href="{}">{}</a>', change, _("Open"))
    kind, label = next_action(specific, now)
    if kind in ("generate", "settings"):
        # Generate and the fields a refusal names are on the OAuth 2.0 tab.
        return format_html('<a class="button pc-row-action" href="{}#oauth">{}</a>', change, label)
    test_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_test", args=[connection.pk])
    return format_html(
        '<button type="submit" class="button pc-row-action" formaction="{}" formnovalidate name="_return" '
        'value="overview" aria-label="{}">{}</button>',
        test_url,
        _("%(action)s %(name)s") % {"action": label, "name": connection.name},
        label,
    )
