"""Settings of tests/benchmark_scale.py and the worker processes it starts: the test settings with
the renewal defaults; the sweep runs every 5 seconds (a killed worker's claims are taken over
soon after they expire), and SCALE_PARTNER_HOST_LIMITS (JSON) sets PARTNER_HOST_LIMITS for a
section that shows a partner's limit."""

import json
import os

from tests.settings import *  # noqa: F403

PARTNER_CONNECTIONS = {  # noqa: F405
    **PARTNER_CONNECTIONS,  # noqa: F405
    "SWEEP_INTERVAL_SECONDS": 5,
    "PARTNER_HOST_LIMITS": json.loads(os.environ.get("SCALE_PARTNER_HOST_LIMITS") or "{}"),
}
