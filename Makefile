# Dingdan: `make run` starts it on SQLite with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint unit install dev-install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/dingdan db upgrade
	$(BIN)/dingdan demo --if-empty
	$(BIN)/dingdan serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/mypy src/dingdan $(wildcard bench)
	$(BIN)/lint-imports

# The suite runs in TEST_WORKERS processes (pytest-xdist; tests of one xdist_group share a
# process), then the tests marked `serial` (servers killed or PostgreSQL restarted under load,
# multi-process servers, the browser) run alone. TEST_WORKERS=0: everything in one process.
# Measured on a 2-core machine: docs/benchmarks.md, "Test suite time". Each run ends with its
# slowest tests (--durations), where to look first when the suite grows slow.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not serial" --durations=15
PYTEST_SERIAL = $(BIN)/pytest -m serial --durations=5

test: lint
	$(PYTEST_PARALLEL)
	$(PYTEST_SERIAL)
	@if [ -n "$$DINGDAN_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		DINGDAN_TEST_BACKEND=postgresql $(PYTEST_PARALLEL) && \
		DINGDAN_TEST_BACKEND=postgresql $(PYTEST_SERIAL); \
	else \
		echo "DINGDAN_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; \
	fi

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache dingdan.db dingdan.db-wal dingdan.db-shm dingdan.db.writer.lock
