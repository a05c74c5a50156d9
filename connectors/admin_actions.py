"""What the Generate and Test Connection buttons do, kept out of the ModelAdmin so the admin
stays a thin layer of Django's own machinery."""
from django.contrib import messages
from django.http import HttpResponseRedirect

from . import diagnostics, events, failures, oauth, state, tokens
from .callback import callback_url
from .display import expiry_in_words
from .providers.base import AUTHORIZATION_CODE, PASSWORD


def generate(model_admin, request, connection, page_url):
    """Start authorization (authorization code) or fetch a token at once (password)."""
    grant = connection.provider_info.grant
    if grant == AUTHORIZATION_CODE:
        verifier = oauth.new_pkce_verifier()
        issued = state.issue(request, connection, verifier)
        try:
            url = oauth.authorization_url(connection, callback_url(), issued, verifier)
        except failures.OAuthFailure as failure:
            model_admin.message_user(request, failure.message, messages.ERROR)
            return HttpResponseRedirect(page_url)
        events.record(connection, "authorize started", request.user)
        return HttpResponseRedirect(url)
    if grant == PASSWORD:
        try:
            token = oauth.password_grant(connection)
        except failures.OAuthFailure as failure:
            kept = " The previous token is kept." if connection.has_token else ""
            model_admin.message_user(request, f"No token: {failure.message}{kept}", messages.ERROR)
            events.record(connection, "authorize failed", request.user, succeeded=False, detail=failure.message)
            return HttpResponseRedirect(page_url)
        tokens.store_token(connection, token)
        connection.save(update_fields=tokens.TOKEN_FIELDS)
        events.record(connection, "authorized", request.user)
        model_admin.message_user(
            request, f"Authorized: the token expires {expiry_in_words(connection)}.", messages.SUCCESS
        )
        return HttpResponseRedirect(page_url)
    model_admin.message_user(request, "This provider needs no Generate: tokens are fetched on demand.", messages.INFO)
    return HttpResponseRedirect(page_url)


def settings_errors(form):
    """One sentence naming the fields to fix, for a test of a form that does not validate."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Settings"
        parts.append(f"{label}: {errors[0]}")
    return "Fix the form first. " + " ".join(parts)


def test_form_or_saved(model_admin, request, obj):
    """Test the submitted (possibly unsaved) form, or the saved connection when nothing was
    submitted; returns a TestResult. Never saves the form."""
    if "name" not in request.POST:
        return diagnostics.run_test(obj, record=True, user=request.user)
    form_class = model_admin.get_form(request, obj, change=obj is not None)
    form = form_class(request.POST, instance=obj)
    if not form.is_valid():
        return diagnostics.TestResult(False, "settings", None, 0, settings_errors(form))
    unsaved = form.save(commit=False)
    record = obj is not None and not form.changed_field_labels
    return diagnostics.run_test(unsaved, record=record, user=request.user)
