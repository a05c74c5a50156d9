"""The admin's list of sections as an operator reads it: Partner connections first (All
connections, then each provider, then API keys), Django's users and groups next, and the
third-party sections (access attempts, task results: superusers only, see
connectors/admin/operations.py) last under one "Operations" heading."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()

OURS = "connectors"
DJANGOS = ("auth",)


def _model_order(model):
    # All connections first, API keys last, the providers between them in alphabetical order.
    first = {"Connection": 0, "ApiKey": 2}.get(model["object_name"], 1)
    return (first, str(model["name"]).lower())


@register.filter
def operators_first(app_list):
    ours = [{**app, "models": sorted(app["models"], key=_model_order)} for app in app_list if app["app_label"] == OURS]
    djangos = [app for app in app_list if app["app_label"] in DJANGOS]
    others = [app for app in app_list if app["app_label"] != OURS and app["app_label"] not in DJANGOS]
    operations = []
    if others:
        operations = [
            {
                "name": _("Operations"),
                "app_label": "operations",
                "app_url": others[0]["app_url"],
                "has_module_perms": True,
                "models": [model for app in others for model in app["models"]],
            }
        ]
    return [*ours, *djangos, *operations]
