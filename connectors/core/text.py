"""Text from partners and operators, cleaned before anyone reads it.

Input refuses the Unicode categories that hide or reorder what is shown: control (Cc), format
(Cf: bidi overrides such as U+202E and U+2066, soft hyphen, zero-width and tag characters),
surrogates (Cs) and line or paragraph separators (Zl, Zp). A partner's words shown in a sentence
(an error code or description, a Content-Type) keep printable characters only and are cut to a
sentence's length: `partner_words` is the one place that does it.
"""

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Longest piece of a partner's text put into one of our sentences.
PARTNER_WORDS_LIMIT = 120


def refused_characters(value):
    """The characters of `value` in a refused category, in order (empty when none)."""
    return [character for character in value if unicodedata.category(character) in REFUSED_CATEGORIES]


def partner_words(value, limit=PARTNER_WORDS_LIMIT, first_sentence=False):
    """`value` (anything a partner sent) as printable text on one line, at most `limit`
    characters; with `first_sentence`, only up to the end of its first sentence."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 4]  # bound the work before cleaning
    kept = "".join(character if character.isprintable() else " " for character in text)
    kept = " ".join(kept.split())
    if first_sentence:
        end = next(
            (i + 1 for i, character in enumerate(kept) if character in ".!?" and kept[i + 1 : i + 2] in ("", " ")), 0
        )
        kept = kept[:end] if end else kept
    if len(kept) > limit:
        kept = kept[: limit - 1].rstrip() + "…"
    return kept
