"""What every ModelAdmin of the project accepts from a URL, in one mixin.

Django's `ModelAdmin.lookup_allowed` accepts any lookup on the model's own fields, so a list URL
such as `?access_token__regex=^gAAAAAB…&id__exact=2` answers one bit of a stored ciphertext per
request, even to view-only staff (and `?client_id__regex=(` was a server error). Here a list
accepts only the parameters of the filters and date hierarchy it declares. Malformed ids (not a
number, beyond the column's range) are a missing object, not a server error; bulk actions check
their ids; and two operators saving the same name at the same moment get a form error, not the
database's IntegrityError.
"""

from django.contrib import admin, messages
from django.contrib.admin.filters import FieldListFilter, ListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

# Integer columns Django uses for ids; a value outside the range is no id at all.
ID_RANGES = {
    models.AutoField: (-(2**31), 2**31 - 1),
    models.BigAutoField: (-(2**63), 2**63 - 1),
    models.SmallAutoField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
}
DATE_HIERARCHY_PARTS = ("year", "month", "day")
# A name race loses to a row committed meanwhile: the form, validated again, then names it.
SAVE_ATTEMPTS = 3


def is_valid_id(model, value):
    """True when `value` can be the primary key of `model` (its type and its column's range)."""
    field = model._meta.pk
    while field.remote_field is not None:  # a provider model's id is its parent's (one-to-one)
        field = field.target_field
    try:
        python_value = field.to_python(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    for kind, (low, high) in ID_RANGES.items():
        if isinstance(field, kind):
            return isinstance(python_value, int) and low <= python_value <= high
    return python_value is not None


class DeclaredLookupsOnly:
    """Mix into every ModelAdmin (before admin.ModelAdmin)."""

    def declared_lookup_parameters(self, request):
        """The query parameters the declared list filters and date hierarchy read."""
        declared = tuple(self.get_list_filter(request))
        cache = self.__dict__.setdefault("_declared_lookup_cache", {})
        if declared in cache:
            return cache[declared]
        names = set()
        for item in declared:
            if isinstance(item, type) and issubclass(item, ListFilter):
                # A SimpleListFilter reads its own parameter; the lookups are its own code.
                names.add(getattr(item, "parameter_name", None))
                continue
            field_path, filter_class = (item, None) if isinstance(item, str) else item
            field = get_fields_from_path(self.model, field_path)[-1]
            create = filter_class or FieldListFilter.create
            spec = create(field, request, {}, self.model, self, field_path=field_path)
            names.update(spec.expected_parameters())
        if self.date_hierarchy:
            names.update(f"{self.date_hierarchy}__{part}" for part in DATE_HIERARCHY_PARTS)
        names.discard(None)
        cache[declared] = frozenset(names)
        return cache[declared]

    def lookup_allowed(self, lookup, value, request=None):
        if request is None:  # Django's own checks ask without a request; refuse what is not declared
            return False
        return lookup in self.declared_lookup_parameters(request) and super().lookup_allowed(lookup, value, request)

    def get_object(self, request, object_id, from_field=None):
        model = self.model
        if from_field is None and not is_valid_id(model, object_id):
            return None  # the admin then answers as for any missing object
        return super().get_object(request, object_id, from_field)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if not all(is_valid_id(self.model, value) for value in selected):
            self.message_user(
                request,
                _("The selection holds something that is not a row of this list: select again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        for _attempt in range(SAVE_ATTEMPTS - 1):
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except IntegrityError:
                # Another save committed the same unique value after this form was validated
                # (the whole view ran in one transaction, now rolled back): validate again, and
                # the form names the conflict like any other taken name.
                continue
        return super().changeform_view(request, object_id, form_url, extra_context)


class PolicyModelAdmin(DeclaredLookupsOnly, admin.ModelAdmin):
    """A ModelAdmin under the project's URL policy."""


def enforce(site):
    """Put every ModelAdmin registered on `site` (Django's auth admins, any app's) under the
    policy; the project's own admins already inherit it. Called once the admin modules are
    imported (ConnectorsConfig.ready)."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, DeclaredLookupsOnly):
            continue
        hardened = type(type(model_admin).__name__, (DeclaredLookupsOnly, type(model_admin)), {})
        site.unregister(model)
        site.register(model, hardened)
