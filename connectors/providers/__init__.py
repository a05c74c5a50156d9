"""The provider registry: an explicit dict, so that what exists is visible in one place.

Adding a provider: write its module here, add its model in connectors/models.py, list it below.
"""

from . import hypatos, invenias, inverbis

PROVIDERS = {provider.key: provider for provider in (inverbis.PROVIDER, invenias.PROVIDER, hypatos.PROVIDER)}


def get_provider(key):
    return PROVIDERS[key]
