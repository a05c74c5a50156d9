from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Partner connections"

    def ready(self):
        from . import checks  # noqa: F401  (registers the start-up checks)
