"""The admin's side of definitions as data: actions to export the selected connections as a JSON
download (no secrets, no tokens) and to duplicate them without their secrets, and the import page
(upload, dry-run diff, Apply)."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.engine import runner
from connectors.store import definitions, policy


@admin.action(description=gettext_lazy("Export selected connections (JSON, without secrets)"), permissions=["view"])
def export_selected(model_admin, request, queryset):
    connections, refused = [], []
    for connection in runner.with_provider_fields(queryset.order_by("provider", "name", "pk")):
        # The overview lists every provider: an export shows what the change page shows, so it
        # needs the view permission of that provider's model.
        (connections if policy.may(request.user, "export", connection) else refused).append(connection)
    if refused:
        model_admin.message_user(
            request,
            _("Not exported (you may not view them): %(names)s.") % {"names": ", ".join(c.name for c in refused)},
            messages.WARNING,
        )
        if not connections:
            return None
    document = definitions.export_document(connections)
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
        # The overview lists every provider: a copy is an addition to that provider's section.
        if not policy.may(request.user, "duplicate", connection):
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


# -- the import page (on the overview of all connections) -------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Definitions file"),
        required=False,
        help_text=gettext_lazy("A JSON file written by “Export selected connections” or export_connections."),
    )
    # The document travels back with Apply: it holds no secret by construction (and is re-checked).
    document = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("document")
        if upload:
            if upload.size > definitions.MAX_DOCUMENT_BYTES:
                raise forms.ValidationError({"file": _("The file is larger than 2 MiB: is it a definitions file?")})
            text = upload.read().decode("utf-8", errors="replace")
        if not text:
            raise forms.ValidationError({"file": _("Choose a definitions file.")})
        try:
            # The document posted back with Apply meets the same limits as an upload.
            cleaned["plan"] = definitions.plan(definitions.parse(text))
        except definitions.DocumentError as error:
            raise forms.ValidationError({"file": str(error)}) from None
        cleaned["document"] = text
        return cleaned


def refused_items(request, import_plan):
    """Connections the user may not create or change, by the provider models' permissions."""
    refused = []
    for item in import_plan.items:
        if item.action not in ("create", "update"):
            continue
        if not policy.may(request.user, item.action, type(item.instance)):
            refused.append(item.label)
    return refused


def secrets_message(item):
    """ "Connection: enter Client Secret, Password.", the connection a link to its OAuth 2.0 tab
    (where the secrets are typed)."""
    opts = type(item.instance)._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[item.instance.pk]) + "#oauth"
    sentence = conditional_escape(_("%(connection)s: enter %(secrets)s."))
    return mark_safe(  # noqa: S308  (every part is escaped above or by format_html)
        sentence
        % {
            "connection": format_html('<a href="{}">{}</a>', url, item.label),
            "secrets": conditional_escape(", ".join(str(label) for label in item.secrets_to_enter)),
        }
    )


def hide_unviewable(request, import_plan):
    """The dry run shows stored values (the differences): of a provider whose connections the
    user may not view, it shows none, and the plan cannot be applied."""
    for item in import_plan.items:
        if item.instance is None or policy.may(request.user, "dry_run", type(item.instance)):
            continue
        item.changes, item.secrets_to_enter, item.clears_secrets = [], [], False
        item.errors = [_("You may not view connections of this provider: nothing of it is shown or imported.")]
        item.action = "invalid"


def import_view(model_admin, request):
    """Upload a definitions file, see what would change (the dry run), then Apply."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    import_plan = None
    if request.method == "POST" and form.is_valid():
        import_plan = form.cleaned_data["plan"]
        hide_unviewable(request, import_plan)
        refused = refused_items(request, import_plan)
        if "_apply" in request.POST and import_plan.valid and not refused:
            definitions.apply(import_plan, request.user)
            counts = {action: import_plan.count(action) for action in ("create", "update", "unchanged")}
            model_admin.message_user(
                request,
                _("Imported: %(create)d created, %(update)d updated, %(unchanged)d unchanged.") % counts,
                messages.SUCCESS,
            )
            for item in import_plan.items:
                if item.secrets_to_enter:
                    model_admin.message_user(request, secrets_message(item), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:connectors_connection_changelist"))
        for label in refused:
            model_admin.message_user(
                request, _("%(connection)s: you may not create or change it.") % {"connection": label}, messages.ERROR
            )
        form = ImportForm(initial={"document": form.cleaned_data["document"]})
        can_apply = import_plan.valid and not refused and (import_plan.count("create") or import_plan.count("update"))
    else:
        can_apply = False
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Import connection definitions"),
        "form": form,
        "plan": import_plan,
        "can_apply": can_apply,
    }
    return TemplateResponse(request, "admin/connectors/import_definitions.html", context)
