# `make run` sets up and serves the portal on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ADDRESS ?= 127.0.0.1:8000
PIP := $(BIN)/python -m pip install --disable-pip-version-check --quiet

.PHONY: run setup test lint check-deploy clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(PIP) -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Every step keeps what exists: a second run changes nothing and takes seconds.
setup: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference_data
	$(BIN)/python manage.py import_cities
	$(BIN)/python manage.py import_agreements data/sco_twinnings.csv --quiet
	$(BIN)/python manage.py load_sample_practices
	$(BIN)/python manage.py create_demo_accounts

run: setup
	$(BIN)/python manage.py runserver $(ADDRESS)

test: $(VENV)/.dev
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DJANGO_SETTINGS_MODULE=sco_portal.test_settings $(BIN)/python manage.py makemigrations --check --dry-run

# Django's deployment checklist, with the environment a production host would have.
check-deploy: $(VENV)/.runtime
	DEBUG=false SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=portal.example.org DATABASE_URL=sqlite:///:memory: \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles
