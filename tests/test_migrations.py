"""Migrations match the models and run both ways on the database in use (SQLite, and PostgreSQL
with `make test`)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]


def test_no_model_change_lacks_a_migration():
    # --check exits non-zero (SystemExit) when makemigrations would write a migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_connectors_migrations_unapply_and_reapply():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("connectors")
    call_command("migrate", "connectors", "zero", stdout=StringIO())
    assert "connectors_connection" not in connection.introspection.table_names()
    call_command("migrate", "connectors", stdout=StringIO())
    assert "connectors_connection" in connection.introspection.table_names()
    executor.loader.build_graph()
    assert set(latest) <= executor.loader.applied_migrations.keys()
