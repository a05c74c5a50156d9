"""The provider registry: an explicit dict, so that what exists is visible in one place.

Adding a provider: write its module here, add its model in connectors/models.py, list it below.
"""

from connectors.partners.providers import generic, hypatos, invenias, inverbis
from connectors.partners.providers.base import Provider, Words

PROVIDERS = {
    provider.key: provider for provider in (inverbis.PROVIDER, invenias.PROVIDER, hypatos.PROVIDER, generic.PROVIDER)
}


def get_provider(key: str) -> Provider:
    return PROVIDERS[key]


def provider_choices() -> list[tuple[str, Words]]:
    """(key, label) of every provider, read when needed: the model field's choices are this
    callable, so migrations name it and a changed or translated label needs no migration."""
    return [(key, provider.label) for key, provider in PROVIDERS.items()]
