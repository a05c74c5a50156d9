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


def test_names_differing_only_in_case_are_renamed_before_the_constraint():
    executor = MigrationExecutor(connection)
    executor.migrate([("connectors", "0001_initial")])
    old = executor.loader.project_state([("connectors", "0001_initial")]).apps
    Base = old.get_model("connectors", "Connection")
    for name, provider in [("Prod", "invenias"), ("prod", "invenias"), ("PROD", "invenias"), ("prod", "hypatos")]:
        Base.objects.create(name=name, provider=provider)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("connectors"))
    from connectors.models import Connection

    names = sorted(Connection.objects.values_list("provider", "name"))
    assert names == [("hypatos", "prod"), ("invenias", "PROD (3)"), ("invenias", "Prod"), ("invenias", "prod (2)")]
    Connection.objects.all().delete()
