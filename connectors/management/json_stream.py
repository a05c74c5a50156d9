"""A JSON document written as it is produced: a commands' long list (one entry per connection)
streamed item by item, so that memory stays flat whatever the number of connections. The text is
what `json.dumps(document, indent=2, ensure_ascii=False)` writes for the whole document."""

import json


def _dumps(value, level):
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level)


def write_document(write, head, list_key, items, tail=None):
    """Write {**head, list_key: [*items], **tail()} with `write(text)`; `tail` is a callable (or
    None) read after the items, e.g. a summary counted while they were written."""
    write("{\n")
    for key, value in head.items():
        write(f"  {json.dumps(key)}: {_dumps(value, 1)},\n")
    write(f"  {json.dumps(list_key)}: [")
    first = True
    for item in items:
        write(("\n" if first else ",\n") + "    " + _dumps(item, 2))
        first = False
    write("]" if first else "\n  ]")
    ending = tail() if tail else {}
    for key, value in ending.items():
        write(f",\n  {json.dumps(key)}: {_dumps(value, 1)}")
    write("\n}")
