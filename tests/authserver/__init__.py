"""A real OAuth 2.0 authorization server for the test suite.

A tiny standalone Django project built on django-oauth-toolkit, with routes
shaped like each partner's (Inverbis/Keycloak, Invenias, Hypatos). It runs in
its own process with its own SQLite database, so the application under test
talks to it over real HTTP exactly as it would to the partner:

    python -m tests.authserver --port 8765 --db /tmp/authserver.sqlite3

It must never import from ``connectors`` or ``project``: it stands in for a
third party. Importing this package does not import Django.
"""
