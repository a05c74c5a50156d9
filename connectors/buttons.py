"""What the Generate and Test Connection buttons do, kept out of the ModelAdmin so the admin
stays a thin layer of Django's own machinery."""

from django.contrib import messages
from django.http import HttpResponseRedirect

from . import authorization, diagnostics, failures
from .providers.base import AUTHORIZATION_CODE, PASSWORD


def generate(model_admin, request, connection, page_url):
    """Start authorization (authorization code) or fetch a token at once (password)."""
    grant = connection.provider_info.grant
    if grant == AUTHORIZATION_CODE:
        try:
            return HttpResponseRedirect(authorization.authorization_redirect(request, connection))
        except failures.OAuthFailure as failure:
            model_admin.message_user(request, failure.message, messages.ERROR)
    elif grant == PASSWORD:
        succeeded, sentence = authorization.password_token(connection, request.user)
        model_admin.message_user(request, sentence, messages.SUCCESS if succeeded else messages.ERROR)
    else:
        model_admin.message_user(
            request, "This provider needs no Generate: tokens are fetched on demand.", messages.INFO
        )
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
        if obj is None:
            return diagnostics.TestResult(False, "settings", None, 0, "Fill in the form first.")
        return diagnostics.run_test(obj, record=True, user=request.user)
    form_class = model_admin.get_form(request, obj, change=obj is not None)
    form = form_class(request.POST, instance=obj)
    if not form.is_valid():
        return diagnostics.TestResult(False, "settings", None, 0, settings_errors(form))
    unsaved = form.save(commit=False)
    record = obj is not None and not form.changed_field_labels
    return diagnostics.run_test(unsaved, record=record, user=request.user)
