"""axe-core (the copy inside axe-playwright-python, so nothing is fetched) run in the page."""

from axe_playwright_python.sync_playwright import Axe

# What a person with a screen reader or low vision is blocked by; "moderate" and "minor" findings
# are advice and are not failures.
BLOCKING = {"serious", "critical"}
_axe = Axe()


def blocking_violations(page):
    results = _axe.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def assert_accessible(page, where):
    found = blocking_violations(page)
    assert not found, f"axe-core on {where}:\n" + "\n".join(found)
