"""Create an API key for a consumer of the token API (README, API) and print it once."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from connectors.models import Connection
from connectors.partners.providers import PROVIDERS
from connectors.store import apikeys


class Command(BaseCommand):
    help = (
        "Create an API key for the token API and print it once (only its hash is stored). "
        "Without --tokens the key reads connections and their health only."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses the key, e.g. billing-service.")
        parser.add_argument(
            "--connection", action="append", type=int, default=[], metavar="ID", help="A connection it may use."
        )
        parser.add_argument(
            "--provider",
            action="append",
            default=[],
            choices=sorted(PROVIDERS),
            help="Every connection of this provider, including ones added later.",
        )
        parser.add_argument("--tokens", action="store_true", help="May obtain tokens (not only metadata).")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="Expires after this many days.")

    def handle(self, *args, name, connection, provider, tokens, expires, **options):
        if not connection and not provider:
            raise CommandError(_("Name at least one --connection ID or --provider KEY: the key would see nothing."))
        if expires is not None and expires < 1:
            raise CommandError(_("--expires must be at least 1 day."))
        connections = list(Connection.objects.filter(pk__in=connection))
        missing = sorted(set(connection) - {c.pk for c in connections})
        if missing:
            raise CommandError(_("No connection with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        expires_at = timezone.now() + timedelta(days=expires) if expires else None
        try:
            api_key, raw_key = apikeys.create(
                name, connections=connections, providers=provider, may_obtain_tokens=tokens, expires_at=expires_at
            )
        except ValidationError as error:
            raise CommandError(" ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())) from None
        scope = _("tokens and metadata") if tokens else _("metadata only")
        expiry = _(", expires %(date)s") % {"date": f"{expires_at:%Y-%m-%d}"} if expires_at else ""
        self.stderr.write(
            _("Created API key “%(name)s” (%(scope)s%(expiry)s). It is shown only now:")
            % {"name": api_key.name, "scope": scope, "expiry": expiry}
        )
        # The key alone on stdout, so a script can capture it: KEY=$(manage.py create_api_key …)
        self.stdout.write(raw_key)
