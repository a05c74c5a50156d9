"""The documentation site as a reader gets it: `mkdocs build --strict` passes (also a step of
`make test`), and the Mermaid diagrams are drawn in the browser from the site's own copy of the
script, with no request to any other host."""

import functools
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser.conftest import TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stdout + build.stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("page_path", ["", "architecture/"])
def test_the_diagrams_are_drawn_without_reaching_another_host(browser, site, page_path):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere = []

    def only_the_site(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    try:
        page = context.new_page()
        page.route("**/*", only_the_site)
        page.goto(f"{site}/{page_path}")
        # The theme replaces each ```mermaid block (a <pre>) by the drawn diagram (a <div>).
        page.wait_for_function("document.querySelectorAll('pre.mermaid').length === 0")
        assert page.locator("div.mermaid").count() >= 1
        assert page.locator("div.mermaid").first.bounding_box()["height"] > 100
    finally:
        context.close()
    assert not elsewhere, elsewhere
