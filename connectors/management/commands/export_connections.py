"""Write connection definitions (no secrets, no tokens) as JSON, for import_connections."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from connectors.engine import runner
from connectors.models import Connection
from connectors.partners.providers import PROVIDERS
from connectors.store import definitions


class Command(BaseCommand):
    help = "Write the definitions of all connections (or one provider's) as JSON, without any secret or token."

    def add_arguments(self, parser):
        parser.add_argument("--provider", action="append", default=[], choices=sorted(PROVIDERS), metavar="KEY")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args, provider, output, **options):
        connections = Connection.objects.order_by("provider", "name", "pk")
        if provider:
            connections = connections.filter(provider__in=provider)
        document = definitions.export_document(runner.with_provider_fields(connections))
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
            self.stderr.write(
                ngettext(
                    "Wrote %(count)d connection definition to %(file)s.",
                    "Wrote %(count)d connection definitions to %(file)s.",
                    len(document["connections"]),
                )
                % {"count": len(document["connections"]), "file": output}
            )
        else:
            self.stdout.write(text, ending="")
