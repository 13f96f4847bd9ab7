# liverooms: `make run` sets everything up and serves the app; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
APPS := liverooms rooms comments media

.PHONY: run test lint typecheck pytest clean cluster

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# A laptop: SQLite, in-memory channel layer, Celery worker + beat on a folder broker.
run: export DEBUG ?= 1
# The demo room (and bob's seat) wait 15 minutes for someone to log in as its host, not 60 s.
run: export ROOM_ABANDONED_AFTER ?= 900
run: $(VENV)/.runtime
	@mkdir -p var/celery/queue var/celery/processed var/celery/control
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the Celery worker)"
	@$(BIN)/celery -A liverooms worker --beat --pool=solo -Q celery,webhooks --loglevel=WARNING & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/daphne -b $(HOST) -p $(PORT) liverooms.asgi:application

# A cluster on this machine (docs/deploy.md): nginx + N daphne + a Celery worker per queue + beat,
# on the local PostgreSQL and Redis (DATABASE_URL / REDIS_URL, started if installed but stopped).
# Prints the URL (CLUSTER_PORT); Ctrl-C stops everything.
N ?= 2
CLUSTER_PORT ?= 8080
cluster: $(VENV)/.runtime
	$(BIN)/python -m deploy.cluster --processes $(N) --port $(CLUSTER_PORT) $(CLUSTER_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	DEBUG=1 $(BIN)/mypy $(APPS)

pytest: $(VENV)/.dev
	@mkdir -p var
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
