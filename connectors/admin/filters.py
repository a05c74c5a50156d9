"""The overview's filters. The health filter asks connectors/store/health.py's database twin of
health_of(), so a filter choice lists exactly the rows whose badge shows that health."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from connectors.partners.providers import PROVIDERS
from connectors.store import health


class ProviderFilter(admin.SimpleListFilter):
    """The overview's provider filter, named with the providers' short names as the Provider
    column is (the model field's choices carry the long section names)."""

    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(key, provider.short_name) for key, provider in PROVIDERS.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value in PROVIDERS:
            return queryset.filter(provider=value)
        return queryset


class HealthFilter(admin.SimpleListFilter):
    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        # One choice per health, named with the badge's own word.
        return [(code.value, code.label) for code in health.Health]

    def queryset(self, request, queryset):
        value = self.value()
        if value in health.Health.values:
            return health.filter_by_health(queryset, value)
        return queryset


class LastTestFilter(admin.SimpleListFilter):
    # Translators: read after the admin's "By" ("By last test"); German: "Nach letztem Test".
    title = pgettext_lazy("filter title", "last test")
    parameter_name = "last_test"

    def lookups(self, request, model_admin):
        return (("passed", _("passed")), ("failed", _("failed")), ("never", _("never tested")))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "never":
            return queryset.filter(last_test_at__isnull=True)
        if value in ("passed", "failed"):
            return queryset.filter(last_test_at__isnull=False, last_test_passed=value == "passed")
        return queryset
