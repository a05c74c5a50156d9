"""Settings of tests/benchmark_scale.py and the worker processes it starts: the test settings with
the renewal defaults, but a 2-second HTTP_TIMEOUT (a claim lives 16 s, so a killed worker's claims
are taken over within the run) and a sweep every 5 seconds."""

from tests.settings import *  # noqa: F403

PARTNER_CONNECTIONS = {**PARTNER_CONNECTIONS, "HTTP_TIMEOUT": 2, "SWEEP_INTERVAL_SECONDS": 5}  # noqa: F405
