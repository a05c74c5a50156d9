"""What the Generate and Test Connection buttons do, kept out of the ModelAdmin so the admin
stays a thin layer of Django's own machinery."""

from functools import update_wrapper

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from connectors.admin import pending_tests
from connectors.core import failures
from connectors.engine import authorization, diagnostics
from connectors.models import Connection
from connectors.store import display, health


def generate(model_admin, request, connection, page_url):
    """What the connection's grant does on Generate: send the operator to the provider's login
    page (authorization code), or fetch a token at once (password)."""
    try:
        outcome = authorization.generate(request, connection)
    except failures.OAuthFailure as failure:
        model_admin.message_user(request, failure.message, messages.ERROR)
        return HttpResponseRedirect(page_url)
    if outcome.redirect_url:
        return HttpResponseRedirect(outcome.redirect_url)
    model_admin.message_user(request, outcome.sentence, messages.SUCCESS if outcome.succeeded else messages.ERROR)
    return HttpResponseRedirect(page_url)


def settings_errors(form):
    """One sentence naming the fields to fix, for a test of a form that does not validate."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else _("Settings")
        parts.append(_("%(field)s: %(error)s") % {"field": label, "error": errors[0]})
    return _("Fix the form first. %(errors)s") % {"errors": " ".join(parts)}


def test_form_or_saved(model_admin, request, obj):
    """Test the submitted (possibly unsaved) form, or the saved connection when nothing was
    submitted; returns a TestResult. Never saves the form."""
    if "name" not in request.POST:
        if obj is None:
            return diagnostics.TestResult(False, "settings", None, 0, _("Fill in the form first."))
        return diagnostics.run_test(obj, record=True, user=request.user)
    form_class = model_admin.get_form(request, obj, change=obj is not None)
    form = form_class(request.POST, instance=obj)
    if not form.is_valid():
        return diagnostics.TestResult(False, "settings", None, 0, settings_errors(form))
    unsaved = form.save(commit=False)
    record = obj is not None and not form.changed_field_labels
    result = diagnostics.run_test(unsaved, record=record, user=request.user)
    if obj is not None and not record:
        diagnostics.record_unsaved_test(unsaved, result, request.user)
    if not record:
        # Saved unchanged right after, these settings count as tested (adopt_pending_test).
        pending_tests.remember(request, model_admin.model, obj, form, result)
    return result


def adopt_pending_test(request, connection, form, *, added):
    """After a save: a Test Connection of exactly the saved settings, run before saving, is
    recorded as the saved connection's last test."""
    result = pending_tests.take(request, type(connection), form, added=added)
    if result is not None:
        diagnostics.record_outcome(connection, result, request.user, before_saving=True)


def test_answer(result, connection):
    """The JSON answer of Test Connection: the outcome in parts for the result box, and the
    connection's health after the test, for the badge on the page."""
    answer = {
        **result.as_dict(),
        "headline": result.headline,
        "meta": result.meta,
        "message": result.message_sentence,
    }
    if connection is not None and connection.pk:
        fresh = type(connection).objects.get(pk=connection.pk)
        text, tone = display.status_text(fresh)
        state = health.health_of(fresh)
        answer["health"] = {"code": state.code.value, "text": text, "tone": tone, "title": display.explanation(fresh)}
    return answer


def wants_json(request):
    return request.headers.get("Accept", "").startswith("application/json")


def json_aware(model_admin, view):
    """admin_view for a view that scripts call: a script whose session expired gets a JSON answer
    saying so (and where to log in), not the login page's HTML."""
    wrapped = model_admin.admin_site.admin_view(view)

    def inner(request, *args, **kwargs):
        if wants_json(request) and not model_admin.admin_site.has_permission(request):
            login = reverse("admin:login")
            return JsonResponse(
                {
                    "passed": False,
                    "session_expired": True,
                    "headline": _("Not tested"),
                    "meta": "",
                    "message": _(
                        "Your session has expired: log in again in a new tab (this form keeps what you "
                        "typed), then click Test Connection again."
                    ),
                    "login_url": login,
                },
                status=401,
            )
        return wrapped(request, *args, **kwargs)

    return update_wrapper(inner, view)


def failure_line(connection, result):
    """A bulk or row test's failure message, linking to the connection to fix."""
    specific = connection.specific
    opts = specific._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk])
    return format_html('<a href="{}">{}</a>: {}', url, connection.name, result.sentence)


def back_to_list(request, model_admin):
    """The list a row's button was clicked in (with its filters), or the overview."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        return referer
    return reverse(f"admin:{Connection._meta.app_label}_connection_changelist")


def with_plain_delete_action(actions):
    """Django names the delete action after verbose_name_plural ("Delete selected All
    connections"); say what it deletes instead."""
    if "delete_selected" in actions:
        function, name, _description = actions["delete_selected"]
        actions["delete_selected"] = (function, name, _("Delete selected connections"))
    return actions
