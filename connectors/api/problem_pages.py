"""What a problem `type` URI ({PUBLIC_BASE_URL}/api/v1/problems/{slug}) leads to: the section of
docs/api.md that describes the problem (its heading is the slug), so the page a consumer reaches
and the documentation are one text."""

import functools
import re
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@functools.cache
def sections():
    """{slug: Markdown section} of the document's "### slug" headings."""
    try:
        text = DOCUMENT.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for match in re.finditer(r"^### `?([a-z-]+)`?\n(.*?)(?=^#{1,3} |\Z)", text, re.M | re.S):
        found[match.group(1)] = f"### {match.group(1)}\n{match.group(2)}".strip() + "\n"
    return found


def section(slug):
    return sections().get(slug)
