"""The admin interface: the connections' ModelAdmins and forms with their Generate and Test
buttons (`connections`, `forms`, `buttons`), list filters and page notes, the bulk-test pages,
the API-key and definitions (import/export) admins, the admin policy (which lookups a list
accepts), and the change form's remembered test results.

Django's autodiscovery imports this package; importing `connections` registers the ModelAdmins.
It builds on the engine and the layers below, and never imports another interface.
"""

from connectors.admin import connections  # noqa: F401  (registers the ModelAdmins)
