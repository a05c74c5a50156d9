"""The admin UI: one section per provider with the tabbed change form, and an overview of all
connections."""

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from connectors.admin import bulk_views, buttons, page_notes, prefill
from connectors.admin.definitions import duplicate_selected, export_selected, import_view
from connectors.admin.filters import HealthFilter, LastTestFilter, ProviderFilter
from connectors.admin.forms import connection_form_class
from connectors.admin.policy import PolicyModelAdmin
from connectors.core.callback import callback_url
from connectors.engine import bulk, runner
from connectors.models import Connection
from connectors.partners import grants
from connectors.partners.providers import PROVIDERS
from connectors.store import display, events, policy, proxy_usage, rules

# Error reports (mail_admins on a server error) must not carry what was typed into the form.
sensitive_post = method_decorator(sensitive_post_parameters())


def info_of(model_admin):
    return model_admin.opts.app_label, model_admin.opts.model_name


# -- the lists: filters, columns and the bulk test --------------------------------------------


@admin.action(description=gettext_lazy("Test selected connections"), permissions=["change"])
def test_selected_connections(model_admin, request, queryset):
    """Enqueue a test of each selected connection (the worker runs them, as Test Connection
    would) and go to the page that shows their progress; the request returns at once."""
    allowed, refused = [], []
    for connection in runner.with_provider_fields(queryset):
        # The overview lists every provider: testing writes to the connection, so it needs the
        # change permission of that provider's model, as the change form's button does.
        if policy.may(request.user, "test", connection):
            allowed.append(connection)
        else:
            refused.append(connection.name)
    if refused:
        model_admin.message_user(
            request,
            _("Not tested (you may not change them): %(names)s.") % {"names": ", ".join(refused)},
            messages.WARNING,
        )
    if not allowed:
        return None
    bulk_test = bulk.start(allowed, request.user)
    return HttpResponseRedirect(reverse("admin:connectors_connection_bulk_test", args=[bulk_test.pk]))


def row_action_column(request):
    @admin.display(description=gettext_lazy("Next action"))
    def next_action(obj):
        opts = obj.specific._meta
        return display.next_action_cell(obj, request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))

    return next_action


class ProviderConnectionAdmin(PolicyModelAdmin):
    """Base for every provider's admin; connection_admin_class() fills in the provider."""

    provider = None
    change_form_template = "admin/connectors/change_form.html"
    change_list_template = "admin/connectors/connections_change_list.html"
    delete_selected_confirmation_template = "admin/connectors/connections_delete_selected_confirmation.html"
    list_display = ("name", "status_badge", "token_expiry", "last_test")  # + the row action
    search_fields = ("name",)
    list_filter = (HealthFilter, LastTestFilter)
    actions = (test_selected_connections, export_selected, duplicate_selected)

    class Media:
        css = {"all": ("connectors/connections.css",)}
        # The JavaScript catalog first (an external script: the Content-Security-Policy allows no
        # inline one): the scripts after it read their words through gettext().
        js = (
            reverse_lazy("javascript-catalog"),
            "connectors/tabs.js",
            "connectors/copy.js",
            "connectors/test_connection.js",
            "connectors/derive_urls.js",
            "connectors/templates.js",
        )

    def get_actions(self, request):
        return buttons.with_plain_delete_action(super().get_actions(request))

    def changelist_view(self, request, extra_context=None):
        # The section's own name as the title, not "Select … connection to change".
        return super().changelist_view(request, {"title": self.provider.label, **(extra_context or {})})

    def get_fieldsets(self, request, obj=None):
        provider = self.provider
        tabs = {"connection": list(provider.connection_fields), "oauth": list(provider.oauth_fields)}
        for tab, attribute, _label, _value in reversed(provider.fixed_values):
            position = 1 if tab == "connection" else 0  # after the name, or first on the tab
            tabs[tab].insert(position, attribute)
        editable = self.has_change_permission(request, obj) if obj else True
        for tab in tabs.values():
            for position, name in enumerate(tab):
                if name in self.form.secret_fields:
                    # A read-only view would print the stored value: show whether it is set.
                    tab[position] = (name, f"clear_{name}") if editable else f"{name}_state"
        if provider.shows_callback_url:
            tabs["oauth"].append("callback_url")
        # The Generate button only for those who may use it.
        tabs["oauth"].append("token_state" if editable else "token_summary")
        if obj and obj.pk:
            tabs["oauth"].append("proxied_calls")
        return (
            (_("Connection"), {"classes": ("pc-tab", "pc-tab--connection"), "fields": tabs["connection"]}),
            (_("OAuth 2.0"), {"classes": ("pc-tab", "pc-tab--oauth"), "fields": tabs["oauth"]}),
        )

    def get_readonly_fields(self, request, obj=None):
        fixed = [attribute for _tab, attribute, _label, _value in self.provider.fixed_values]
        secrets = [f"{name}_state" for name in self.form.secret_fields]
        return (*fixed, "callback_url", "token_state", "token_summary", "proxied_calls", *secrets)

    @admin.display(description=gettext_lazy("Proxied calls, last 24 hours"))
    def proxied_calls(self, obj):
        # Counted per minute by the token API's proxy (connectors/store/proxy_usage.py).
        calls, failed = proxy_usage.recent(obj.pk)
        if not calls:
            return _("none")
        return _("%(calls)d (%(failed)d failed)") % {"calls": calls, "failed": failed}

    @admin.display(description=gettext_lazy("Token"))
    def token_summary(self, obj):
        if not (obj and obj.pk):
            return _("No token yet.")
        # The health badge heads the page (change_form.html), above both tabs.
        return format_html("{}{}", display.token_summary(obj), display.token_details(obj))

    @admin.display(description=gettext_lazy("Callback URL"))
    def callback_url(self, obj):
        if not (obj and obj.pk):
            # Each connection has its own callback URL (the mix-up defence), ending in its number,
            # which the first save gives: show its form now, and what completes it.
            return format_html(
                '<code id="pc-callback-url">{}<var>{}</var>/</code><div class="help">{}</div>',
                callback_url(),
                _("number"),
                _(
                    "The URL to register at the provider as the redirect (reply) URL. It ends in this "
                    "connection's number, given when it is first saved: click “Save and continue "
                    "editing”, then copy the complete URL here."
                ),
            )
        url = callback_url(obj)
        return format_html(
            '<span class="pc-copy"><code id="pc-callback-url">{}</code> '
            '<button type="button" class="button pc-action-button pc-copy-button" data-copy-target="pc-callback-url">'
            "{}</button></span>"
            '<div class="help">{}</div>',
            url,
            _("Copy"),
            _("Register this URL at the provider as the redirect (reply) URL."),
        )

    @admin.display(description=gettext_lazy("Token"))
    def token_state(self, obj):
        summary = self.token_summary(obj)
        # The button and its help are the grant's (an unsaved form: the provider's default).
        grant = grants.of(obj) if obj and obj.pk else grants.get_grant(self.provider.grant)
        if not grant.has_generate_button:
            return format_html("{} {}", summary, _("Tokens are fetched when needed; nothing to generate."))
        label = _("Regenerate") if obj and obj.has_token else _("Generate")
        hint = grant.generate_hint
        return format_html(
            '<div>{}</div><button type="submit" name="_generate" value="1" class="button pc-action-button pc-generate">{}</button>'
            '<div class="help">{}</div>',
            summary,
            label,
            hint,
        )

    # -- Generate and Test Connection -------------------------------------------------------

    def get_urls(self):
        info = info_of(self)
        wrap = self.admin_site.admin_view
        return [
            path("test-connection/", buttons.json_aware(self, self.test_connection_view), name="%s_%s_test_new" % info),
            path(
                "<path:object_id>/test-connection/",
                buttons.json_aware(self, self.test_connection_view),
                name="%s_%s_test" % info,
            ),
            path("derive-urls/", wrap(self.derive_urls_view), name="%s_%s_derive_urls" % info),
            *super().get_urls(),
        ]

    def derive_urls_view(self, request):
        """The derived URLs for the values typed so far, so the form's URLs follow them as the
        operator types (static/connectors/derive_urls.js). Read-only: a GET without secrets."""
        if not self.has_view_or_change_permission(request) and not self.has_add_permission(request):
            raise PermissionDenied
        values, errors = {}, {}
        for name in self.provider.connection_fields:
            value = request.GET.get(name, "").strip()
            if value:
                # This provider's own rules for its own fields, as the model applies them.
                try:
                    value = rules.clean_value(self.provider, name, value)
                except ValidationError as error:
                    errors[name] = error.messages[0]
                    continue
            values[name] = value
        # A half-typed invalid value derives nothing: the URLs keep what they had.
        urls = {} if errors else self.provider.derive_urls(values)
        return JsonResponse({"urls": urls, "errors": errors})

    @sensitive_post
    def test_connection_view(self, request, object_id=None):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, object_id) if object_id else None
        if object_id and obj is None:
            raise Http404(_("No such connection."))
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        if "name" in request.POST:
            self._prefill(request)
        result = buttons.test_form_or_saved(self, request, obj)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(buttons.test_answer(result, obj))
        if request.POST.get("_return") == "overview":
            # A row's Test button: the outcome as a message on the list it was clicked in.
            line = buttons.failure_line(obj, result) if not result.passed else f"{obj.name}: {result.sentence}"
            self.message_user(request, line, messages.SUCCESS if result.passed else messages.ERROR)
            return HttpResponseRedirect(buttons.back_to_list(request, self))
        self.message_user(request, result.sentence, messages.SUCCESS if result.passed else messages.ERROR)
        page = "change" if obj else "add"
        args = [obj.pk] if obj else []
        return HttpResponseRedirect(reverse(f"admin:%s_%s_{page}" % info_of(self), args=args))

    @sensitive_post
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and self._may_save(request, object_id):
            # Before Django's admin opens its transaction: this may ask the partner. Only for
            # whoever may save this form: a discovery fetch on behalf of anyone else would let
            # them probe hosts and ports through the server (Django's view then answers 403).
            self._prefill(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _may_save(self, request, object_id):
        if object_id is None:
            return self.has_add_permission(request)
        obj = self.get_object(request, unquote(object_id))
        return obj is not None and self.has_change_permission(request, obj)

    def _prefill(self, request):
        request.POST, request.connectors_prefill_errors = prefill.fill(request.POST, self.provider)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        errors = getattr(request, "connectors_prefill_errors", None)
        if errors:
            form = type(form.__name__, (form,), {"prefill_errors": errors})
        return form

    def response_add(self, request, obj, post_url_continue=None):
        if "_generate" in request.POST:
            return buttons.generate(self, request, obj, self._change_page(obj))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_generate" in request.POST:
            return buttons.generate(self, request, obj, self._change_page(obj))
        return super().response_change(request, obj)

    def _change_page(self, obj):
        # Generate's outcome shows on the OAuth 2.0 tab, next to the token.
        return reverse("admin:%s_%s_change" % info_of(self), args=[obj.pk]) + "#oauth"

    @admin.display(description=gettext_lazy("Health"))
    def status_badge(self, obj):
        return display.status_badge(obj)

    @admin.display(description=gettext_lazy("Token"), ordering="token_expires_at")
    def token_expiry(self, obj):
        for_whom = display.token_for_cell(obj)
        expiry = display.token_cell_words(obj)
        if not for_whom:
            return expiry
        return format_html('{}<div class="pc-token-for">{}</div>', expiry, for_whom)

    def get_list_display(self, request):
        # The row action depends on the user's permissions: a column bound to this request
        # (the ModelAdmin itself is shared by all requests).
        return [*self.list_display, row_action_column(request)]

    @admin.display(description=gettext_lazy("Last test"), ordering="last_test_at")
    def last_test(self, obj):
        return display.last_test_cell(obj)

    def save_model(self, request, obj, form, change):
        # The model applies the change policy (connectors/store/policy.py); the tokens a move
        # drops are revoked where they were issued (RFC 7009), on behalf of this user.
        obj.changed_by = request.user
        super().save_model(request, obj, form, change)
        if change:
            if form.changed_field_labels:
                events.record(obj, "changed", request.user, detail=events.changed_fields(form.changed_field_labels))
        else:
            events.record(obj, "created", request.user)
        # A Test Connection of exactly these settings just before saving counts as their test.
        buttons.adopt_pending_test(request, obj, form, added=not change)

    def render_change_form(self, request, context, *args, **kwargs):
        obj = kwargs.get("obj")
        context["provider"] = self.provider
        name = "test" if obj else "test_new"
        context["test_connection_url"] = reverse(f"admin:%s_%s_{name}" % info_of(self), args=[obj.pk] if obj else [])
        context["events"] = events_page(obj, request.GET.get("events_page")) if obj else []
        context["host_warning"] = page_notes.callback_host_warning(request, self.provider)
        context["health_badge"] = display.status_badge(obj) if obj else ""
        form = context["adminform"].form
        page_notes.report_unsaved_secrets(form)
        return super().render_change_form(request, context, *args, **kwargs)


# The last ten on the page; older ones a page at a time (Older / Newer).
EVENTS_PER_PAGE = 10


def events_page(connection, number):
    """One page of the connection's events, newest first (a bad page number gives the first)."""
    return Paginator(connection.events.select_related("user"), EVENTS_PER_PAGE).get_page(number)


def connection_admin_class(provider):
    model = apps.get_model("connectors", provider.model_name)
    form = connection_form_class(provider, model)
    attributes = {"provider": provider, "form": form}
    for name in form.secret_fields:
        # What a read-only view shows instead of the secret: whether one is stored.
        label = model._meta.get_field(name).verbose_name
        attributes[f"{name}_state"] = admin.display(description=label)(
            lambda self, obj, name=name: _("set") if obj and getattr(obj, name) else _("not set")
        )
    for _tab, attribute, label, value in provider.fixed_values:
        attributes[attribute] = admin.display(description=label)(lambda self, obj, value=value: value)
    return type(f"{provider.model_name}Admin", (ProviderConnectionAdmin,), attributes)


@admin.register(Connection)
class ConnectionOverviewAdmin(PolicyModelAdmin):
    """All connections in one list; each row opens its provider's form. Its list template,
    admin/connectors/connection/change_list.html, extends connections_change_list.html."""

    delete_selected_confirmation_template = ProviderConnectionAdmin.delete_selected_confirmation_template

    list_display = ("name", "provider_label", "status_badge", "token_expiry", "last_test")  # + the row action
    list_filter = (ProviderFilter, HealthFilter, LastTestFilter)
    search_fields = ("name",)
    actions = (test_selected_connections, export_selected, duplicate_selected)

    class Media:
        css = {"all": ("connectors/connections.css",)}

    def has_add_permission(self, request):
        return False  # a connection is added in its provider's section

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request: import_view(self, request))
        wrap = self.admin_site.admin_view
        return [
            path("import/", view, name="connectors_connection_import"),
            path("add-connection/", wrap(self.choose_provider_view), name="connectors_connection_choose_provider"),
            path(
                "bulk-test/<int:bulk_test_id>/",
                wrap(lambda request, bulk_test_id: bulk_views.progress_page(self, request, bulk_test_id)),
                name="connectors_connection_bulk_test",
            ),
            path(
                "bulk-test/<int:bulk_test_id>/progress/",
                wrap(lambda request, bulk_test_id: bulk_views.progress_json(self, request, bulk_test_id)),
                name="connectors_connection_bulk_test_progress",
            ),
            *super().get_urls(),
        ]

    def addable_providers(self, request):
        """(provider, its add page) for each provider whose connections this user may add."""
        found = []
        for provider in PROVIDERS.values():
            model = apps.get_model("connectors", provider.model_name)
            if self.admin_site.is_registered(model) and request.user.has_perm(
                f"{model._meta.app_label}.add_{model._meta.model_name}"
            ):
                found.append((provider, reverse(f"admin:connectors_{model._meta.model_name}_add")))
        return found

    def choose_provider_view(self, request):
        """The overview's Add button: which provider the new connection is for."""
        choices = self.addable_providers(request)
        if not choices:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Add a connection: choose its provider"),
            # Each provider with the grant it uses, or the grants its connections choose from.
            "choices": [
                (
                    provider,
                    url,
                    " / ".join(str(grants.get_grant(key).label) for key in provider.grant_choices or (provider.grant,)),
                )
                for provider, url in choices
            ],
        }
        return TemplateResponse(request, "admin/connectors/choose_provider.html", context)

    def changelist_view(self, request, extra_context=None):
        extra = {
            "title": _("All connections"),
            "may_add_connection": bool(self.addable_providers(request)),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_queryset(self, request):
        # Each row's action links to its provider's page: join the provider tables once.
        return runner.with_provider_fields(super().get_queryset(request))

    def get_actions(self, request):
        return buttons.with_plain_delete_action(super().get_actions(request))

    @admin.display(description=gettext_lazy("Provider"), ordering="provider")
    def provider_label(self, obj):
        # The short name fits the column; the section titles keep the full one.
        return obj.provider_info.short_name

    status_badge = ProviderConnectionAdmin.status_badge
    token_expiry = ProviderConnectionAdmin.token_expiry
    last_test = ProviderConnectionAdmin.last_test
    get_list_display = ProviderConnectionAdmin.get_list_display

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, object_id)
        if connection is None:
            return super().change_view(request, object_id, form_url, extra_context)
        model = connection.specific
        return HttpResponseRedirect(reverse(f"admin:connectors_{model._meta.model_name}_change", args=[connection.pk]))


for _provider in PROVIDERS.values():
    admin.site.register(apps.get_model("connectors", _provider.model_name), connection_admin_class(_provider))

# The API keys' admin lives in its own module; importing it registers it.
from connectors.admin import api_keys  # noqa: E402,F401
