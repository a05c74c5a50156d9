# The commands of README: `make demo`, `make run` and `make test` (and `make docs`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
TESTDEPS := $(VENV)/.test-installed

.PHONY: run test install demo screenshots messages docs

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "Cannot create a virtual environment: install Python's venv module (sudo apt-get install python3-venv)"; exit 1; }

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(TESTDEPS): requirements.txt tests/requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	@touch $@

install: $(RUNTIME)

.env: | $(RUNTIME)
	$(BIN)/python project/envfile.py .env

run: $(RUNTIME) .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	@echo "Serving http://127.0.0.1:8000/admin/ with a background worker (Ctrl+C stops both)"
# The worker runs beside the web server; Ctrl+C reaches both (one process group), and the trap
# stops the worker too when the server ends any other way.
	@$(BIN)/python manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver --insecure 127.0.0.1:8000

test: $(TESTDEPS)
	bash tests/prerequisites.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
# The documentation: a broken link or anchor, or a page outside the navigation, fails the build.
# Not --quiet: it hides the warnings that --strict turns into a failure.
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site; status=$$?; rm -rf site; exit $$status
	$(BIN)/python -m pytest
# The database-sensitive tests again, on a PostgreSQL cluster started (and removed) for them.
	$(BIN)/python tests/with_postgres.py $(BIN)/python -m pytest -m database

# The translation catalogs (connectors/locale/): extract the messages of the code for every
# language there, then compile the .mo files (committed). Needs GNU gettext (README, Languages).
messages: $(RUNTIME) .env
	cd connectors/locale && for lang in *; do \
		(cd ../.. && $(BIN)/python manage.py makemessages -l $$lang --ignore=tests --ignore=docs --ignore=site --no-obsolete && \
		 $(BIN)/python manage.py makemessages -d djangojs -l $$lang --ignore=tests --ignore=docs --ignore=site --no-obsolete) || exit 1; \
	done
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=tests

# A sandbox: the local authorization server, a demo connection of each provider, the app.
demo: $(TESTDEPS) .env
	$(BIN)/python -m tests.demo

# The documentation's pictures (docs/screenshots/), in the browser tests' Chromium; never part of `make test`.
screenshots: $(TESTDEPS)
	bash tests/prerequisites.sh
	$(BIN)/python -m pytest tests/browser/screenshots.py -q

# The documentation site (mkdocs.yml) into site/, rebuilt from scratch (git-ignored).
docs: $(TESTDEPS)
	rm -rf site
	$(BIN)/mkdocs build --strict
