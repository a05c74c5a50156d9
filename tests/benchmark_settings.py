"""Settings of the gunicorn server that tests/benchmark_api.py starts: the test settings (with the
database the benchmark created, through TEST_DATABASE_URL), a URLconf with a trivial view beside
the app's own, and a rate limit too high to be reached (its cost is still paid)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmark_urls"
PARTNER_CONNECTIONS = {**PARTNER_CONNECTIONS, "API_RATE_LIMIT": 10**9}  # noqa: F405
