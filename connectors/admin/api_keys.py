"""The admin of API keys: create (the key is shown once, on the page the save redirects to), scope,
expire, revoke. Only superusers and holders of `connectors.manage_api_keys` see any of it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from connectors.models import PROXY_METHODS, ApiKey, default_proxy_methods
from connectors.partners.providers import PROVIDERS
from connectors.store import apikeys

from . import shown_once

MANAGE_PERMISSION = "connectors.manage_api_keys"


class ApiKeyForm(forms.ModelForm):
    providers = forms.MultipleChoiceField(
        label=_("Providers"),
        # The providers' short names, as the connection picker and the lists name them.
        choices=lambda: [(key, provider.short_name) for key, provider in PROVIDERS.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every connection of these providers, including ones added later."),
    )

    proxy_methods = forms.MultipleChoiceField(
        label=_("Proxy methods"),
        choices=[(method, method) for method in PROXY_METHODS],
        required=False,
        initial=default_proxy_methods,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The HTTP methods the key may send through the proxy (GET only: read, never change)."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "connections", "providers", "may_obtain_tokens", "may_proxy", "proxy_methods", "expires_at")

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("connections") and not cleaned.get("providers"):
            self.add_error("connections", _("Choose at least one connection or provider: this key would see nothing."))
        expires_at = cleaned.get("expires_at")
        if expires_at and expires_at <= timezone.now() and "expires_at" in self.changed_data:
            self.add_error("expires_at", _("Choose a moment in the future (or revoke the key to stop it now)."))
        return cleaned


class KeyStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", _("Active")), ("revoked", _("Revoked")), ("expired", _("Expired")))

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if value == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        return queryset


@admin.action(description=_("Revoke selected API keys"))
def revoke_selected(model_admin, request, queryset):
    active = list(queryset.filter(revoked_at__isnull=True))
    count = queryset.filter(pk__in=[key.pk for key in active]).update(revoked_at=timezone.now())
    for api_key in active:
        model_admin.log_change(request, api_key, [{"changed": {"fields": ["revoked"]}}])
    model_admin.message_user(
        request,
        ngettext("Revoked %(count)d API key.", "Revoked %(count)d API keys.", count) % {"count": count},
        messages.SUCCESS,
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    # Django's own form: admin/connectors/change_form.html, found by the app's label, is the
    # connections' form (its Test Connection button has no meaning for a key).
    change_form_template = "admin/change_form.html"
    list_display = ("name", "key_hint", "state", "may_obtain_tokens", "may_proxy", "expires_at", "last_used_at")
    list_filter = (KeyStateFilter, "may_obtain_tokens")
    search_fields = ("name", "key_prefix")
    filter_horizontal = ("connections",)
    readonly_fields = ("key_hint", "state", "created_at", "last_used_at", "revoked_at")
    actions = (revoke_selected,)

    def get_fields(self, request, obj=None):
        fields = ["name", "connections", "providers", "may_obtain_tokens", "may_proxy", "proxy_methods", "expires_at"]
        if obj is not None:
            fields = ["key_hint", "state", *fields, "created_at", "last_used_at", "revoked_at"]
        return fields

    # Managing keys is one permission, held on purpose (or by superusers).
    def _may_manage(self, request):
        return request.user.is_active and request.user.has_perm(MANAGE_PERMISSION)

    def has_module_permission(self, request):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request)

    @admin.display(description=_("Key"))
    def key_hint(self, obj):
        return f"{apikeys.KEY_START}{obj.key_prefix}_…" if obj and obj.key_prefix else "—"

    @admin.display(description=_("State"))
    def state(self, obj):
        return {"active": _("active"), "revoked": _("revoked"), "expired": _("expired")}[apikeys.state_of(obj)]

    def save_model(self, request, obj, form, change):
        if not change:
            # Kept for response_add only: never stored, logged or put in a message.
            request._new_api_key = apikeys.issue(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(request, "_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        # POST, redirect, GET: the key waits (encrypted) in this browser's session, so a reload of
        # its page shows it again rather than submitting the form a second time. Never a message:
        # that would put it in a cookie.
        shown_once.keep(request, obj.pk, raw_key)
        return HttpResponseRedirect(reverse("admin:connectors_apikey_created", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "<int:object_id>/created/",
                self.admin_site.admin_view(self.created_view),
                name="connectors_apikey_created",
            ),
            *super().get_urls(),
        ]

    def created_view(self, request, object_id):
        """The new key, once: shown while this session keeps it, gone after "I have copied it"."""
        if not self._may_manage(request):
            raise PermissionDenied
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise Http404(_("No such API key."))
        change_url = reverse("admin:connectors_apikey_change", args=[object_id])
        if request.method == "POST":
            shown_once.forget(request)
            return HttpResponseRedirect(change_url)
        raw_key = shown_once.read(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("API key created"),
            "api_key": obj,
            "raw_key": raw_key,
            "change_url": change_url,
            "done_url": reverse("admin:connectors_apikey_created", args=[object_id]),
            "list_url": reverse("admin:connectors_apikey_changelist"),
        }
        response = TemplateResponse(request, "admin/connectors/apikey/created.html", context)
        add_never_cache_headers(response)
        return response
