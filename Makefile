# The two commands: `make run` (set up and serve the portal) and `make test` (set up and run every test).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 5000

.PHONY: run test test-long install env migrate lint clean-dev

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Writes .env once; an older .env gains the settings added since (never changing what is there).
env: install
	$(PY) devtools/make_env.py .env

migrate: env
	$(VENV)/bin/alembic upgrade head

run: migrate
	PORT=$(PORT) bash devtools/run.sh

test: install
	bash devtools/test.sh -m "not long"

test-long: install
	LONG=1 bash devtools/test.sh -m long

lint: install
	$(VENV)/bin/ruff check .

clean-dev:
	rm -rf instance

# `make bench` (1,000,000 customers and keys) or `make bench SIZE=small`: see bench/README.md.
SIZE ?= full
.PHONY: bench
bench: install
	$(PY) bench/run.py --size $(SIZE)
