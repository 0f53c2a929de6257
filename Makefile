# Rapport — everyday commands. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
LOCK := constraints.txt
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: bench-webhooks lock run worker install install-test test test-sqlite test-postgres browser bench bench-quick bench-import clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(VENV)/bin/activate
	$(PIP) install --quiet -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK) $(VENV)/.installed
	$(PIP) install --quiet -c $(LOCK) -e '.[test]'
	@touch $@

install: $(VENV)/.installed

lock:  ## Resolve pyproject.toml's ranges (test extras included) afresh into constraints.txt
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[test]'
	{ sed -n '1,2p' $(LOCK); .venv-lock/bin/pip freeze --exclude-editable | grep -iv '^rapport'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .venv-lock
	@echo "constraints.txt updated; run make install-test and commit it."

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@
	@chmod 600 $@

instance/channels_key: | install
	@mkdir -p instance
	@$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $@
	@chmod 600 $@

run: install instance/secret_key instance/channels_key  ## Install, migrate, load demo data on first start; web + a job worker (Procfile), on SQLite
	@export SECRET_KEY=$$(cat instance/secret_key); \
	export CHANNELS_ENCRYPTION_KEY=$${CHANNELS_ENCRYPTION_KEY:-$$(cat instance/channels_key)}; \
	$(FLASK) db upgrade && \
	$(FLASK) demo load --if-empty && \
	echo "" && \
	echo "  Rapport is running at http://$(HOST):$(PORT)/" && \
	echo "  Demo logins (password: $$($(PY) -c 'from crm.demo.data import DEMO_PASSWORD; print(DEMO_PASSWORD)')):" && \
	echo "    admin@rapport.test    admin" && \
	echo "    manager@rapport.test  manager" && \
	echo "    rep@rapport.test      sales rep" && \
	echo "    rep2@rapport.test     sales rep" && \
	echo "  A job worker runs beside it (imports, follow-ups, clean-up); Ctrl+C stops both." && \
	echo "" && \
	HOST=$(HOST) $(VENV)/bin/honcho start -f Procfile -p $(PORT)

worker: install instance/secret_key instance/channels_key  ## Only the job worker (when the web app runs elsewhere)
	@export SECRET_KEY=$$(cat instance/secret_key); \
	export CHANNELS_ENCRYPTION_KEY=$${CHANNELS_ENCRYPTION_KEY:-$$(cat instance/channels_key)}; \
	$(FLASK) jobs worker

install-test: $(VENV)/.installed-test

browser:  ## Debian's Chromium for the browser tests (apt, when root and missing)
	@if ! command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromium ] ; then :; \
	elif ! [ -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium; browser tests will be skipped (failed in CI)."; \
	  else echo "No /usr/bin/chromium: browser tests will be skipped. Install it with: sudo apt-get install chromium"; fi; \
	fi

test: install-test browser  ## Import contracts (.importlinter), then the whole suite: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL) =="; \
	  $(PY) -m pytest -q --db=postgres -m "not browser"; \
	fi

bench: install-test  ## Benchmarks at 100,000 contacts / 1,000,000 messages (BENCH_DATABASE_URL: PostgreSQL)
	$(PY) -m bench.run --contacts 100000 --duration 8 --requests 200

bench-quick: install-test  ## The same at 10,000 contacts, shorter runs (under two minutes)
	$(PY) -m bench.run --contacts 10000 --duration 2 --requests 40 --max-seconds 2

bench-import: install-test  ## Time `flask import-dms` on 1,000,000 DMs and a 100,000-row contacts CSV (fresh SQLite)
	$(PY) bench/import_bench.py

bench-webhooks: install-test  ## 10,000 signed Meta webhook events at 2 gunicorn workers (BENCH_DATABASE_URL: PostgreSQL)
	$(PY) -m bench.webhooks_bench

clean:
	rm -rf $(VENV) .pytest_cache
