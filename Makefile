# Two commands set everything up on a fresh machine with Python 3.11+:
#   make demo   — virtual environment, install, run the shipped demo, print where results are
#   make test   — the same set-up, then ruff, mypy and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench calibrate headline clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/corridor run scenarios/examples/mmc_queue.yaml

lint: $(STAMP)
	$(BIN)/ruff check sim tests $(wildcard benchmarks)
	$(BIN)/ruff format --check sim

typecheck: $(STAMP)
	$(BIN)/mypy sim

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# the real corridor against its sourced targets (docs/model.md); exit 1 if a target is missed
calibrate: $(STAMP)
	$(BIN)/corridor calibrate -r 20

# every shipped scenario against its baseline: the README's Scenarios table
headline: $(STAMP)
	$(BIN)/corridor headline -r 10

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
