"""The bulk test as a background job: "Test selected connections" creates a BulkTest and enqueues
it; the worker tests the connections on the bounded pool of connectors/engine/runner.py and stores one
outcome per connection as each finishes, so the progress page can show how far it got."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.utils import timezone, translation

from connectors.core import sentences
from connectors.core.fields import UnreadableSecret
from connectors.core.sentences import Sentence
from connectors.engine import diagnostics, queue, runner
from connectors.models import BulkTest, BulkTestOutcome, Connection


def start(connections, user):
    """Create the job for `connections` and enqueue it; the BulkTest."""
    bulk_test = BulkTest.objects.create(created_by=user, connection_ids=[c.pk for c in connections])
    queue.enqueue("run_bulk_test", bulk_test.pk)
    return bulk_test


def run(bulk_test_id):
    bulk_test = BulkTest.objects.get(pk=bulk_test_id)
    user = get_user_model().objects.filter(pk=bulk_test.created_by_id).first()
    done = set(bulk_test.outcomes.values_list("connection_id", flat=True))  # a restarted job goes on
    specific, unreadable = _load([pk for pk in bulk_test.connection_ids if pk not in done])
    for pk in unreadable:
        # A secret no configured key reads fails its own connection's test, not the whole job.
        crashed = Sentence("test_crashed", error=UnreadableSecret.__name__)
        _store(bulk_test, pk, diagnostics.TestResult(False, "test", None, 0, crashed))

    def test_and_store(connection):
        result = runner._test_one(connection, user)
        _store(bulk_test, connection.pk, result)
        return result.passed

    results = runner.run_concurrently(test_and_store, specific)
    BulkTest.objects.filter(pk=bulk_test.pk).update(finished_at=timezone.now())
    return {"total": len(bulk_test.connection_ids), "passed": sum(results)}


def _load(ids):
    """(the connections as their providers' models, ids of those whose secrets cannot be read):
    one query for all, and one per row only when some row cannot be read."""
    rows = Connection.objects.filter(pk__in=ids)
    try:
        return [connection.specific for connection in runner.with_provider_fields(rows)], []
    except UnreadableSecret:
        pass
    loaded, unreadable = [], []
    for pk in rows.values_list("pk", flat=True):
        try:
            loaded.append(runner.with_provider_fields(Connection.objects.filter(pk=pk)).get().specific)
        except UnreadableSecret:
            unreadable.append(pk)
    return loaded, unreadable


def _store(bulk_test, connection_id, result):
    with translation.override("en"):
        english = str(result.sentence)
    try:
        BulkTestOutcome.objects.create(
            bulk_test=bulk_test,
            connection_id=connection_id,
            passed=result.passed,
            sentence=english[:500],
            sentence_stored=sentences.stored(result.sentence),
        )
    except IntegrityError:
        pass  # already stored by an earlier run of this job


def progress(bulk_test, change_url):
    """What the progress page shows, as JSON-ready data; `change_url(connection)` links a failure."""
    # Only what the page shows of each connection: an unreadable secret must not stop the page.
    outcomes = list(
        bulk_test.outcomes.select_related("connection")
        .only("passed", "sentence", "sentence_stored", "connection", "connection__name", "connection__provider")
        .order_by("id")
    )
    # Outcomes of connections deleted since go with them; those connections are not waited for.
    total = Connection.objects.filter(pk__in=bulk_test.connection_ids).count()
    passed = sum(outcome.passed for outcome in outcomes)
    # A test that sent nothing (not authorized yet, a secret not stored) did not fail: it is
    # counted apart, and listed with the failures for what to do.
    not_tested = sum(
        not outcome.passed and diagnostics.stored_as_not_run(outcome.sentence_stored) for outcome in outcomes
    )
    failures = [
        {
            "name": outcome.connection.name,
            "url": change_url(outcome.connection),
            "sentence": sentences.sentence_from(outcome.sentence_stored, outcome.sentence),
        }
        for outcome in outcomes
        if not outcome.passed
    ]
    done = len(outcomes)
    return {
        "total": max(total, done),
        "done": done,
        "passed": passed,
        "failed": done - passed - not_tested,
        "not_tested": not_tested,
        "finished": bulk_test.finished_at is not None or done >= total,
        "failures": failures,
    }
