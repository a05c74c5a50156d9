"""Admin actions on connections for definitions as data: export the selected ones as a JSON
download (no secrets, no tokens), and duplicate them without their secrets."""

import json

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import definitions, runner


@admin.action(description=gettext_lazy("Export selected connections (JSON, without secrets)"), permissions=["view"])
def export_selected(model_admin, request, queryset):
    document = definitions.export_document(runner.with_provider_fields(queryset.order_by("provider", "name", "pk")))
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", content_type="application/json; charset=utf-8"
    )
    filename = f"connections-{timezone.now():%Y%m%d-%H%M%S}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.action(description=gettext_lazy("Duplicate selected connections (without secrets)"), permissions=["view"])
def duplicate_selected(model_admin, request, queryset):
    copies, refused = [], []
    for connection in runner.with_provider_fields(queryset):
        opts = connection.specific._meta
        # The overview lists every provider: a copy is an addition to that provider's section.
        if not request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
            refused.append(connection.name)
            continue
        try:
            copies.append(definitions.duplicate(connection, request.user))
        except ValidationError as error:
            model_admin.message_user(request, f"{connection.name}: {' '.join(error.messages)}", messages.ERROR)
    if copies:
        model_admin.message_user(
            request,
            _("Created %(names)s. Enter their secrets before use: secrets are never copied.")
            % {"names": ", ".join(f"“{copy.name}”" for copy in copies)},
            messages.SUCCESS,
        )
    if refused:
        model_admin.message_user(
            request,
            _("Not duplicated (you may not add them): %(names)s.") % {"names": ", ".join(refused)},
            messages.WARNING,
        )
