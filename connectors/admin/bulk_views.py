"""The progress page of a bulk test, and the JSON it polls (static/connectors/bulk_test.js).
Admin views: the overview admin serves them under its own URLs, wrapped in admin_view."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from connectors.engine import bulk
from connectors.models import BulkTest


def _change_url(connection):
    # From the provider column: the provider's row (with its secrets) is not read for a link.
    model_name = connection.provider_info.model_name.lower()
    return reverse(f"admin:connectors_{model_name}_change", args=[connection.pk])


def _bulk_test(model_admin, request, bulk_test_id):
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    bulk_test = get_object_or_404(BulkTest, pk=bulk_test_id)
    if bulk_test.created_by_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied  # another operator's run is theirs to watch
    return bulk_test


def progress_page(model_admin, request, bulk_test_id):
    bulk_test = _bulk_test(model_admin, request, bulk_test_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Testing selected connections"),
        "bulk_test": bulk_test,
        "progress": bulk.progress(bulk_test, _change_url),
        "progress_url": reverse("admin:connectors_connection_bulk_test_progress", args=[bulk_test.pk]),
    }
    return TemplateResponse(request, "admin/connectors/bulk_test.html", context)


def progress_json(model_admin, request, bulk_test_id):
    bulk_test = _bulk_test(model_admin, request, bulk_test_id)
    return JsonResponse(bulk.progress(bulk_test, _change_url))
