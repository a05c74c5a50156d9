"""The admin sections of third-party apps (django-axes' access attempts, django-tasks-db's task
results, any other) are for superusers only: an operator of connections has nothing to do there.
The index lists them last, under "Operations" (connectors/templatetags/connectors_admin.py).
Django's own users and groups and the connections' sections keep their permissions."""

from django.contrib.admin import ModelAdmin

# Apps whose admin sections every staff member with the model's permissions may see.
OPERATOR_APPS = ("connectors", "auth")


class SuperusersOnly(ModelAdmin):
    """Mixed in before a third-party ModelAdmin: its pages answer as if missing to anyone else."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_delete_permission(request, obj)


def superusers_only(site):
    """Put every ModelAdmin of an app outside OPERATOR_APPS under SuperusersOnly. Called once the
    admin modules are imported (ConnectorsConfig.ready)."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label in OPERATOR_APPS or isinstance(model_admin, SuperusersOnly):
            continue
        restricted = type(type(model_admin).__name__, (SuperusersOnly, type(model_admin)), {})
        site.unregister(model)
        site.register(model, restricted)
