"""Walking a whole table without loading it: rows in chunks, by keyset paging.

Each chunk is a query of its own ("the rows after the last one seen, in this order, LIMIT n"),
so memory stays flat whatever the number of rows, and nothing stays open between chunks: not a
server-side cursor, not even a read transaction (on SQLite, an open read would keep the
write-ahead log from being checkpointed while a command waits on partners between chunks). Rows
added or deleted meanwhile are seen or not, as with any walk; none is seen twice.
"""

from django.db import connections
from django.db.models import Q

CHUNK_SIZE = 500


def _ordering(queryset):
    """[(field, descending)] of the queryset's ordering, ending with the primary key."""
    names = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    fields = []
    for name in names:
        if not isinstance(name, str):
            raise ValueError("in_chunks() needs an ordering by field names")
        fields.append((name.lstrip("-"), name.startswith("-")))
    if not fields or fields[-1][0] not in ("pk", queryset.model._meta.pk.name):
        fields.append(("pk", False))
    return fields


def _after(queryset, fields, row):
    """`queryset` restricted to the rows after `row` in the order of `fields` (never NULL)."""
    if not any(descending for _name, descending in fields):
        # A row-value comparison, `(a, b, id) > (x, y, z)`: an index on those columns serves it as
        # one range (the OR of the general form below makes SQLite read from the table's start).
        quote = connections[queryset.db].ops.quote_name
        table = quote(queryset.model._meta.db_table)
        model_fields = [
            queryset.model._meta.pk if name == "pk" else queryset.model._meta.get_field(name) for name, _ in fields
        ]
        columns = ", ".join(f"{table}.{quote(field.column)}" for field in model_fields)
        values = [
            field.get_db_prep_value(_value(row, name), connections[queryset.db])
            for (name, _), field in zip(fields, model_fields, strict=True)
        ]
        marks = ", ".join(["%s"] * len(values))
        return queryset.extra(where=[f"({columns}) > ({marks})"], params=values)
    condition = Q(pk__in=[])
    for index, (name, descending) in enumerate(fields):
        equal = {fields[n][0]: _value(row, fields[n][0]) for n in range(index)}
        condition |= Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": _value(row, name)})
    return queryset.filter(condition)


def _value(row, name):
    return row.pk if name == "pk" else getattr(row, name)


def in_chunks(queryset, size=None):
    """Yield the rows of `queryset` as lists of at most `size`, in its ordering (the primary key
    added last when missing). The ordering's fields must not be NULL."""
    size = size or CHUNK_SIZE
    fields = _ordering(queryset)
    ordered = queryset.order_by(*(f"-{name}" if descending else name for name, descending in fields))
    last = None
    while True:
        page = ordered if last is None else _after(ordered, fields, last)
        rows = list(page[:size])
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]


def each(queryset, size=None):
    """The rows of `queryset` one by one, fetched in chunks (in_chunks)."""
    for rows in in_chunks(queryset, size):
        yield from rows
