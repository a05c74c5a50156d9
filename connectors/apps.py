import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = gettext_lazy("Partner connections")

    def ready(self):
        from django.contrib import admin

        from connectors import models
        from connectors.admin import operations, policy
        from connectors.core.app_settings import app_settings
        from connectors.core.validators import is_loopback, split_host_entry
        from connectors.engine import revocation, tasks, tokens
        from connectors.partners.providers import catalog
        from connectors.store import checks  # noqa: F401  (registers the start-up checks)

        # The provider templates are data: a file the schema refuses stops the start here,
        # naming the file and the field (catalog.CatalogError), not later at a partner.
        catalog.templates()

        # The layers below the engine reach it only through what is registered here: the
        # models' token methods, and the background tasks that the engine enqueues by name.
        models.TOKEN_API.update(get_access_token=tokens.get_access_token, session=tokens.session)
        tasks.register()
        # A deleted connection's refresh token is revoked at the provider (RFC 7009).
        revocation.connect()

        # oauthlib refuses plain http process-wide unless this variable is set. Our own outbound
        # policy (connectors/core/validators.py) already allows http only for loopback hosts listed
        # in EXTRA_ALLOWED_HOSTS, so when such a host is configured (a local test server or
        # sandbox), let oauthlib defer to that policy.
        if any(is_loopback(split_host_entry(entry)[0]) for entry in app_settings.EXTRA_ALLOWED_HOSTS):
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        # Every admin list accepts only the lookups it declares (the admin modules of all apps
        # are imported by now: the admin app, listed first, imported them in its ready()).
        policy.enforce(admin.site)
        # Third-party sections (access attempts, task results) for superusers only.
        operations.superusers_only(admin.site)
        # The admin's titles, in the reader's language (connectors/locale/).
        admin.site.site_header = gettext_lazy("Partner Connections")
        admin.site.site_title = gettext_lazy("Partner Connections")
        admin.site.index_title = gettext_lazy("Connections to partner APIs")
