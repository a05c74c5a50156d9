"""Write connection definitions (no secrets, no tokens) as JSON, for import_connections."""

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from connectors.engine import runner
from connectors.management import json_stream
from connectors.models import Connection
from connectors.partners.providers import PROVIDERS
from connectors.store import chunks, definitions


class Command(BaseCommand):
    help = "Write the definitions of all connections (or one provider's) as JSON, without any secret or token."

    def add_arguments(self, parser):
        parser.add_argument("--provider", action="append", default=[], choices=sorted(PROVIDERS), metavar="KEY")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args, provider, output, **options):
        connections = Connection.objects.order_by("provider", "name", "pk")
        if provider:
            connections = connections.filter(provider__in=provider)
        written = [0]

        def definitions_():
            # In chunks (connectors/store/chunks.py), written as they come: memory stays flat.
            for connection in chunks.each(runner.with_provider_fields(connections)):
                written[0] += 1
                yield definitions.definition_of(connection)

        def export(write):
            head = definitions.document_head()
            json_stream.write_document(write, head, "connections", definitions_())
            write("\n")

        if output:
            with open(output, "w", encoding="utf-8") as file:
                export(file.write)
            self.stderr.write(
                ngettext(
                    "Wrote %(count)d connection definition to %(file)s.",
                    "Wrote %(count)d connection definitions to %(file)s.",
                    written[0],
                )
                % {"count": written[0], "file": output}
            )
        else:
            export(lambda text: self.stdout.write(text, ending=""))
