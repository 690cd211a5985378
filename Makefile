# The two commands: `make run` (the embedded console on http://127.0.0.1:8000) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PORT ?= 8000

.PHONY: run test bench lint format clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	mkdir -p var/broker/out var/broker/processed var/broker/control var/cache staticfiles
	$(VENV)/bin/python manage.py migrate --noinput
	$(VENV)/bin/python manage.py setup_periodic_tasks
	$(VENV)/bin/python manage.py seed_demo
	@echo "En Garde console: http://127.0.0.1:$(PORT)/admin/  (admin / $${DEMO_PASSWORD:-engarde-demo})"
	$(VENV)/bin/honcho --procfile Procfile.local start --port $(PORT)

test: $(VENV)/.dev
	bash scripts/test.sh

# Every benchmark on PostgreSQL and Redis started as for `make test` (BENCH_QUICK=1: small sizes).
bench: $(VENV)/.dev
	bash scripts/bench.sh

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var staticfiles
