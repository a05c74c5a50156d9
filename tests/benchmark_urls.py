"""The app's URLs plus the floors of tests/benchmark_api.py, through the same middleware as the
API: a view that only answers, and a plain view doing the database work of a token handout."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from connectors.engine import tokens
from connectors.models import Connection
from connectors.store import apikeys, events
from project.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def trivial(request):
    return JsonResponse({"ok": True})


@csrf_exempt
def same_database_work(request, pk):
    """What a handout must do, without the API framework: find the key, read the token, record
    the event (no scope check, no validation, no problem answers)."""
    api_key = apikeys.check(request.headers["Authorization"].split(" ", 1)[1]).api_key
    token = tokens.access_token_for(pk)
    events.record(Connection(pk=pk), "token handed out", detail=api_key.name)
    return JsonResponse({"access_token": token})


urlpatterns = [
    *app_urlpatterns,
    path("bench/trivial/", trivial),
    path("bench/same-database-work/<int:pk>/", same_database_work),
]
