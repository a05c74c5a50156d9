"""Notes the change page adds for the operator: where the callback will return, and which typed
secrets a form with errors could not keep."""

from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from connectors.core.app_settings import app_settings
from connectors.partners import grants


def callback_host_warning(request, provider):
    """A sentence when this page is open on another host than PUBLIC_BASE_URL's: the provider
    sends the browser back to the callback URL, where this login's cookie does not exist."""
    offered = provider.grant_choices or (provider.grant,)
    if not any(grants.get_grant(key).operator_logs_in for key in offered):
        return ""  # no login page at the provider, so no trip back to the callback URL
    public = urlsplit(app_settings.PUBLIC_BASE_URL)
    here = request.get_host()
    if not public.netloc or here.lower() == public.netloc.lower():
        return ""
    return _(
        "You opened this page at %(here)s, but the callback URL is on %(public)s: after Generate the "
        "provider sends you back to %(public)s, not here. Open the app at %(base)s (or set "
        "PUBLIC_BASE_URL to this address) before clicking Generate."
    ) % {"here": here, "public": public.netloc, "base": app_settings.PUBLIC_BASE_URL}


def report_unsaved_secrets(form):
    """A form that comes back with errors cannot show the secrets typed into it (they are never
    rendered): say so on each such field, so the operator types it again instead of believing it
    stored. The stored value, if any, is unchanged."""
    if not form.is_bound or not form.errors:
        return
    for name in getattr(form, "secret_fields", ()):
        if name in form.fields and form.data.get(form.add_prefix(name)) and name not in form.errors:
            label = form.fields[name].label
            form.add_error(
                name,
                _("The %(field)s you typed was not saved (the form has errors): type it again before saving.")
                % {"field": str(label).lower()},
            )
