"""The admin UI: one section per provider with the tabbed change form, and an overview of all
connections."""
from django.apps import apps
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from . import display, events
from .callback import callback_url
from .forms import SECRET_FIELDS, connection_form_class
from .models import Connection
from .providers import PROVIDERS

class ProviderConnectionAdmin(admin.ModelAdmin):
    """Base for every provider's admin; connection_admin_class() fills in the provider."""

    provider = None
    change_form_template = "admin/connectors/change_form.html"
    list_display = ("name", "status_badge", "token_expiry", "last_test")
    search_fields = ("name",)
    list_filter = ("status",)

    class Media:
        css = {"all": ("connectors/connections.css",)}
        js = ("connectors/tabs.js",)

    def get_fieldsets(self, request, obj=None):
        provider = self.provider
        tabs = {"connection": list(provider.connection_fields), "oauth": list(provider.oauth_fields)}
        for tab, attribute, _label, _value in reversed(provider.fixed_values):
            position = 1 if tab == "connection" else 0  # after the name, or first on the tab
            tabs[tab].insert(position, attribute)
        editable = self.has_change_permission(request, obj) if obj else True
        for tab in tabs.values():
            for position, name in enumerate(tab):
                if name in SECRET_FIELDS:
                    # A read-only view would print the stored value: show whether it is set.
                    tab[position] = (name, f"clear_{name}") if editable else f"{name}_state"
        if provider.shows_callback_url:
            tabs["oauth"].append("callback_url")
        tabs["oauth"].append("token_state")
        return (
            ("Connection", {"classes": ("pc-tab",), "fields": tabs["connection"]}),
            ("OAuth 2.0", {"classes": ("pc-tab",), "fields": tabs["oauth"]}),
        )

    def get_readonly_fields(self, request, obj=None):
        fixed = [attribute for _tab, attribute, _label, _value in self.provider.fixed_values]
        return (*fixed, "callback_url", "token_state", "client_secret_state", "password_state")

    @admin.display(description="Client Secret")
    def client_secret_state(self, obj):
        return "set" if obj and obj.client_secret else "not set"

    @admin.display(description="Password")
    def password_state(self, obj):
        return "set" if obj and getattr(obj, "password", "") else "not set"

    @admin.display(description="Callback URL")
    def callback_url(self, obj):
        url = callback_url()
        return format_html(
            '<span class="pc-copy"><code id="pc-callback-url">{}</code> '
            '<button type="button" class="button pc-copy-button" data-copy-target="pc-callback-url">'
            "Copy</button></span>"
            '<div class="help">Register this URL at the provider as the redirect (reply) URL.</div>',
            url,
        )

    @admin.display(description="Token")
    def token_state(self, obj):
        if obj is None or not obj.pk:
            return "No token yet."
        return display.token_summary(obj)

    @admin.display(description="Status")
    def status_badge(self, obj):
        return display.status_badge(obj)

    @admin.display(description="Token expires", ordering="token_expires_at")
    def token_expiry(self, obj):
        return display.expiry_in_words(obj)

    @admin.display(description="Last test", ordering="last_test_at")
    def last_test(self, obj):
        return display.last_test(obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            events.record(obj, "changed", request.user, detail=", ".join(form.changed_field_labels))
        else:
            events.record(obj, "created", request.user)

    def render_change_form(self, request, context, *args, **kwargs):
        obj = kwargs.get("obj")
        context["provider"] = self.provider
        context["events"] = obj.events.select_related("user")[:20] if obj else []
        return super().render_change_form(request, context, *args, **kwargs)


def connection_admin_class(provider):
    model = apps.get_model("connectors", provider.model_name)
    attributes = {"provider": provider, "form": connection_form_class(provider, model)}
    for _tab, attribute, label, value in provider.fixed_values:
        attributes[attribute] = admin.display(description=label)(lambda self, obj, value=value: value)
    return type(f"{provider.model_name}Admin", (ProviderConnectionAdmin,), attributes)


@admin.register(Connection)
class ConnectionOverviewAdmin(admin.ModelAdmin):
    """All connections in one list; each row opens its provider's form."""

    list_display = ("name", "provider_label", "status_badge", "token_expiry", "last_test")
    list_filter = ("provider", "status")
    search_fields = ("name",)

    def has_add_permission(self, request):
        return False  # a connection is added in its provider's section

    @admin.display(description="Provider", ordering="provider")
    def provider_label(self, obj):
        return obj.provider_info.label

    status_badge = ProviderConnectionAdmin.status_badge
    token_expiry = ProviderConnectionAdmin.token_expiry
    last_test = ProviderConnectionAdmin.last_test

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, object_id)
        if connection is None:
            return super().change_view(request, object_id, form_url, extra_context)
        model = connection.specific
        return HttpResponseRedirect(
            reverse(f"admin:connectors_{model._meta.model_name}_change", args=[connection.pk])
        )


for _provider in PROVIDERS.values():
    admin.site.register(
        apps.get_model("connectors", _provider.model_name), connection_admin_class(_provider)
    )
