# omnidesk: `make demo` runs the desk with demo traffic; `make test` runs every test.
# Both set everything up themselves on a machine with Python 3.11+.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install demo up test test-clock test-embedded test-server lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install            ## the main job on embedded defaults (SQLite + embedded Redis) with demo traffic
	$(BIN)/omnidesk demo

up: install              ## the main job without demo traffic
	$(BIN)/omnidesk up

test: install            ## every test: SQLite + embedded Redis, then PostgreSQL + redis-server
	scripts/install-test-deps
	$(BIN)/ruff check .
	scripts/run-tests $(BIN)

test-clock: install      ## the clock-marked tests at instants across the desk's and UTC's midnight
	scripts/install-test-deps
	scripts/run-clock-tests $(BIN)

test-embedded: install
	$(BIN)/pytest --backend embedded

test-server: install
	scripts/install-test-deps
	$(BIN)/pytest --backend server -m "not embedded_only"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf $(VENV) var .pytest_cache
