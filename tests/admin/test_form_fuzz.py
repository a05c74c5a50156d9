"""Whatever an operator types or pastes into any field, the answer is the form again (with a
message) or a saved connection: never a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.models import Connection
from tests.forms_data import BY_MODEL, add_url

FIELDS = [(model, field) for model, data in BY_MODEL.items() for field in data]
# Printable text, control characters, look-alikes, URL-ish fragments and very long values.
TEXT = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="ascii"), max_size=80),
    st.sampled_from(
        [
            "https://",
            "http://[::1",
            "https://host:99999/x",
            "javascript:alert(1)",
            "%00",
            "a" * 5000,
            "https://identity.inverbisanalytics.com/" + "é" * 10,
            "\ud7ff",
            "..",
            "*",
        ]
    ),
)


@pytest.mark.django_db
@pytest.mark.parametrize("model,field", FIELDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TEXT)
def test_no_input_causes_a_server_error(admin_client, model, field, value):
    response = admin_client.post(add_url(model), {**BY_MODEL[model], field: value})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["adminform"].form.errors
    Connection.objects.all().delete()
