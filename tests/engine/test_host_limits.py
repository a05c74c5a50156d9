"""What the worker may do at a partner host: the provider's default, overridden per host or
pattern in settings, and a clear refusal of a setting that makes no sense."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors.engine.host_limits import limit_for
from connectors.partners.providers import PROVIDERS
from connectors.partners.providers.base import PartnerLimit


def limits(settings, **hosts):
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "PARTNER_HOST_LIMITS": hosts}


def test_the_provider_says_what_its_partner_allows():
    # Invenias documents 3,000 calls per 5 minutes for everything: renewals take half.
    assert limit_for("company.invenias.com", PROVIDERS["invenias"]) == PartnerLimit(4, 1500, 300)
    assert limit_for("company.invenias.com", PROVIDERS["invenias"]).spacing == 0.2
    # No documented limit: RENEWAL_HOST_CONCURRENCY in flight, no rate.
    assert limit_for("api.cloud.hypatos.ai", PROVIDERS["hypatos"]) == PartnerLimit(16)


def test_settings_override_per_host_pattern_and_port(settings):
    limits(settings, **{"*.invenias.com": {"calls": 600}, "127.0.0.1:8765": {"concurrency": 2}})
    assert limit_for("company.invenias.com", PROVIDERS["invenias"]) == PartnerLimit(4, 600, 300)
    assert limit_for("127.0.0.1:8765", PROVIDERS["hypatos"]) == PartnerLimit(2)
    assert limit_for("127.0.0.1:9999", PROVIDERS["hypatos"]) == PartnerLimit(16)
    assert limit_for("eu.company.invenias.com", PROVIDERS["invenias"]) == PartnerLimit(4, 1500, 300)


@pytest.mark.parametrize(
    "values,words",
    [
        ({"concurency": 2}, "unknown keys concurency"),
        ({"concurrency": 0}, "concurrency must be at least 1"),
        ({"calls": 10, "per_seconds": 0}, "calls and per_seconds positive together"),
    ],
)
def test_a_setting_that_makes_no_sense_is_refused_naming_the_host(settings, values, words):
    limits(settings, **{"api.cloud.hypatos.ai": values})
    with pytest.raises(ImproperlyConfigured) as refused:
        limit_for("api.cloud.hypatos.ai", PROVIDERS["hypatos"])
    assert "PARTNER_HOST_LIMITS['api.cloud.hypatos.ai']" in str(refused.value) and words in str(refused.value)
