"""Choosing connections on a command line: by id, provider key or name."""

from django.core.management.base import CommandError
from django.db.models import Q

from connectors.engine.runner import with_provider_fields
from connectors.partners.providers import PROVIDERS


def select_connections(selectors):
    """The connections matching any selector (all when none is given), ordered by provider and
    name: a queryset, walked in chunks by the commands (connectors/store/chunks.py). A selector is an id (`12`), a provider key (`hypatos`) or a connection's exact name;
    one that matches nothing is an error, so a typo in a cron line does not go unnoticed."""
    queryset = with_provider_fields().order_by("provider", "name", "pk")
    if not selectors:
        return queryset
    wanted = Q(pk__in=[])
    for selector in selectors:
        if selector.isdigit():
            match = Q(pk=int(selector))
        elif selector in PROVIDERS:
            match = Q(provider=selector)
        else:
            match = Q(name=selector)
        if not queryset.filter(match).exists():
            raise CommandError(
                f"No connection matches {selector!r} (an id, a provider key — "
                f"{', '.join(PROVIDERS)} — or a connection's exact name).",
                returncode=2,
            )
        wanted |= match
    return queryset.filter(wanted)
