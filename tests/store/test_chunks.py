"""Walking a table in chunks (connectors/store/chunks.py): every row once, in the queryset's order,
across chunk boundaries that fall between equal names; on both databases (their
collations order names)."""

import pytest

from connectors.models import Connection, HypatosConnection, InveniasConnection
from connectors.store import chunks

pytestmark = [pytest.mark.django_db, pytest.mark.database]


def test_every_row_once_in_order_across_chunk_boundaries():
    names = ["b", "B 1", "a", "b 2", "A 3", "c", "a 1"]  # upper and lower case mixed
    for name in names:
        # The same names at two providers: equal (provider, name) runs never, equal names often.
        HypatosConnection.objects.create(name=name, client_id="x")
        InveniasConnection.objects.create(name=name, subdomain="company")
    ordered = Connection.objects.order_by("provider", "name", "pk")
    expected = list(ordered.values_list("pk", flat=True))
    for size in (1, 2, 3, 5, 14, 100):
        pages = list(chunks.in_chunks(ordered, size))
        assert [row.pk for page in pages for row in page] == expected
        assert all(len(page) <= size for page in pages)
    descending = Connection.objects.order_by("-name", "pk")
    assert [row.pk for row in chunks.each(descending, 4)] == list(descending.values_list("pk", flat=True))


def test_an_empty_table_is_no_chunk():
    assert list(chunks.in_chunks(Connection.objects.order_by("pk"))) == []
