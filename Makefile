# `make run` serves the demo on http://localhost:3000; `make test` runs every test ring.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
# The npm registry this machine's npm is configured with (bun and Reflex read it from the environment).
NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)
ifneq ($(NPM_CONFIG_REGISTRY),)
export NPM_CONFIG_REGISTRY
endif
export PATH := $(CURDIR)/.tools/node_modules/@oven/bun-linux-x64/bin:$(PATH)

PORT ?= 3000
PY := .venv/bin/python
PYTEST := .venv/bin/pytest
# The unit and integration rings run in PYTEST_WORKERS processes (pytest-xdist), each module whole in one of
# them, with its fixtures (a PostgreSQL cluster per process); the browser ring after them, in one process.
export PYTEST_WORKERS ?= 2
PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: help run dev test test-future test-unit test-integration test-e2e bench load seed migrate backup lint

help:
	@echo "make run    installe ce qui manque, migre, crée la démo et sert l'application sur http://localhost:$(PORT)"
	@echo "make test   installe ce qui manque et lance tous les tests (unitaires, intégration SQLite + PostgreSQL, navigateur)"
	@echo "make test-future  tests unitaires et d'intégration avec l'horloge dans 400 jours, un jour de changement d'heure et le 31 décembre"
	@echo "make dev    serveur de développement avec rechargement à chaud (pages :3000, API :8000)"
	@echo "make bench  mesures de performance (pytest-benchmark)"
	@echo "make load   test de charge (locust, en local) : 10 à 400 usagers, un processus SQLite puis deux processus PostgreSQL + Redis"
	@echo "make seed   efface la base et recrée la démo"
	@echo "make backup sauvegarde la base configurée (restauration : python -m rdv_app.cli restore FICHIER)"
	@echo "make lint   ruff, les contrats de couches (import-linter) et la vérification des types (mypy)"

# `make run`, `make dev` and `make seed` are the demo (RDV_DEMO=1); a real instance: README, "Mise en production".
run:
	@scripts/setup.sh python bun
	@RDV_DEMO=1 $(PY) -m rdv_app.cli serve --port $(PORT)

dev:
	@scripts/setup.sh python bun
	@RDV_DEMO=1 $(PY) -m rdv_app.cli prepare
	RDV_DEMO=1 RDV_API_URL=http://localhost:8000 .venv/bin/reflex run --env dev

migrate:
	@scripts/setup.sh python
	@$(PY) -m rdv_app.db.migrate

backup:
	@scripts/setup.sh python
	@$(PY) -m rdv_app.cli backup

seed:
	@scripts/setup.sh python
	@RDV_DEMO=1 $(PY) -m rdv_app.cli seed

# Both runs go to the end, whatever the first one found; `make test` fails if either failed.
test:
	@scripts/setup.sh python bun testtools chromium postgresql redis
	status=0; $(PYTEST) $(PARALLEL) tests/unit tests/integration || status=$$?; \
	$(PYTEST) tests/e2e || status=$$?; exit $$status

test-future:
	@scripts/setup.sh python postgresql redis
	@scripts/test-future.sh

test-unit:
	@scripts/setup.sh python
	$(PYTEST) tests/unit

test-integration:
	@scripts/setup.sh python postgresql redis
	$(PYTEST) $(PARALLEL) tests/integration

test-e2e:
	@scripts/setup.sh python bun testtools chromium
	$(PYTEST) tests/e2e

bench:
	@scripts/setup.sh python bun testtools chromium postgresql
	$(PYTEST) tests/bench tests/e2e/test_bench_booking_browser.py --benchmark-only --benchmark-columns=min,median,mean,max,rounds -s

load:
	@scripts/setup.sh python bun postgresql redis load
	$(PY) tests/load/run.py $(LOAD_ARGS)

lint:
	@scripts/setup.sh python
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/mypy
