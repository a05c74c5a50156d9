"""A Test Connection of unsaved settings, remembered until they are saved.

The operator tests a form, then saves it unchanged: that test was a test of the saved settings,
and the list should say so rather than "never tested". The session keeps, per form, a keyed
digest of the tested values (never the values: the form holds secrets) and the outcome; a save
whose values give the same digest within a few minutes adopts the outcome.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateparse import parse_datetime

from connectors.engine.diagnostics import TestResult

SESSION_KEY = "pc-pending-tests"
# A test older than this is not taken for the saved settings' test: tokens, partner and
# provider state move on.
MAX_AGE = timedelta(minutes=10)


def _form_key(model, obj):
    return f"{model._meta.label_lower}:{obj.pk if obj is not None and obj.pk else 'new'}"


def _digest(form):
    values = sorted((name, str(value)) for name, value in form.cleaned_data.items())
    return salted_hmac("connectors.admin.pending_tests", repr(values), algorithm="sha256").hexdigest()


def remember(request, model, obj, form, result):
    pending = request.session.get(SESSION_KEY, {})
    pending[_form_key(model, obj)] = {
        "digest": _digest(form),
        "at": timezone.now().isoformat(),
        "result": [result.passed, result.step, result.status, result.elapsed_ms, result.stored_message()],
    }
    request.session[SESSION_KEY] = pending


def take(request, model, form, *, added):
    """The remembered TestResult of exactly the values this saved form holds, or None; an entry
    is used once. An add form's test was remembered under "new"."""
    pending = request.session.get(SESSION_KEY) or {}
    key = _form_key(model, None if added else form.instance)
    entry = pending.pop(key, None)
    if not entry:
        return None
    request.session[SESSION_KEY] = pending
    at = parse_datetime(entry["at"])
    if at and timezone.now() - at <= MAX_AGE and constant_time_compare(entry["digest"], _digest(form)):
        return TestResult.from_stored(*entry["result"])
    return None
