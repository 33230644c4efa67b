# Two commands on a fresh machine: `make sandbox` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
SERVE_ARGS ?=

.PHONY: setup sandbox test lint unit st bench browser postgres postgres-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Set up, then run the sandbox on 127.0.0.1:$(PORT) (SQLite store in ./etelecom-sandbox.sqlite3).
sandbox: $(STAMP)
	$(BIN)/etelecom-sandbox serve --port $(PORT) $(SERVE_ARGS)

## Set up, then lint, type-check and run every test.
test: $(STAMP) lint unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set: the tests start many
# Python processes (serve, the CLI, the kit's pytest), each would compile its modules again.
unit: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## Upstream schemathesis (st run, all checks and phases) on both specs against a served sandbox.
EXAMPLES ?= 100
st: $(STAMP)
	$(BIN)/python scripts/st_run.py --examples $(EXAMPLES)
## Debian's Chromium, for the inspector's browser tests (pytest -m ui); installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }
	@chromium --version 2>/dev/null

bench: $(STAMP)
	$(BIN)/python bench/run.py

## A throwaway PostgreSQL cluster in $(PGDIR) (Debian's server: apt-get install postgresql) for
## the PostgreSQL tests: `eval $$(make -s postgres)`, then `make test`. `make postgres-stop` ends it.
PGDIR ?= .postgres
postgres:
	@$(PYTHON) scripts/pg_cluster.py start $(PGDIR) >/dev/null
	@echo "export ETELECOM_TEST_POSTGRES_URL=$$($(PYTHON) scripts/pg_cluster.py url $(PGDIR))"

postgres-stop:
	$(PYTHON) scripts/pg_cluster.py stop $(PGDIR)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis dist build .postgres
