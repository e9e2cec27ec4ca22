# Two commands set everything up on a fresh machine with Python 3.11+:
#   make demo   — virtual environment, install, run the shipped demo, print where results are
#   make test   — the same set-up, then ruff, mypy and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit browser wheel-check bench calibrate headline fit-history backtest study clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo: 2025 as it was (the Sep 2025 border closure) against the same year without the
# closure; rail demand from the fitted history choice (scenarios/history/2025.yaml).
# All with one seed so the differences are paired (common random numbers); 3 replications
# keep it to about a minute.
DEMO := results/demo
DEMO_SCENARIOS := baseline_2025 poland_closure_2025
DEMO_REPS ?= 3
DEMO_METRICS := --metric throughput_teu_per_day --metric transit_days_p95 \
  --metric node:brest:queue_max --metric node:dostyk:utilisation

demo: $(STAMP)
	$(BIN)/corridor run scenarios/examples/mmc_queue.yaml --out $(DEMO)/mmc_queue --force
	for s in $(DEMO_SCENARIOS); do \
	  $(BIN)/corridor run scenarios/$$s.yaml -r $(DEMO_REPS) --seed 2025 --out $(DEMO)/$$s -q --force \
	  || exit 1; done
	$(BIN)/corridor compare $(addprefix $(DEMO)/,$(DEMO_SCENARIOS)) $(DEMO_METRICS) \
	  --out $(DEMO)/comparison.png --csv $(DEMO)/comparison.csv
	$(BIN)/corridor report $(addprefix $(DEMO)/,$(DEMO_SCENARIOS)) $(DEMO_METRICS) \
	  --out $(DEMO)/report.html
	@echo "demo: comparison figure $(DEMO)/comparison.png, report $(DEMO)/report.html"

lint: $(STAMP)
	$(BIN)/ruff check sim tests $(wildcard benchmarks)
	$(BIN)/ruff format --check sim

typecheck: $(STAMP)
	$(BIN)/mypy sim benchmarks

# The report's browser test (tests/test_report_browser.py) opens the report in headless
# Chromium. PyPI has no browser build that works offline, so use Debian's chromium: installed
# here when we are root with apt-get (CI is), otherwise the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    >/dev/null; } || echo "make browser: no Chromium; the report's browser test is skipped"

unit: $(STAMP) browser
	$(BIN)/pytest -q --durations=15

# a wheel built as a user's `pip install .` would build it, installed into a fresh venv (not
# editable), then run/plot/compare/report from outside the checkout: catches a subpackage or
# data file missing from the wheel, which editable installs hide
WHEEL_DIR := build/wheel-check
wheel-check: $(STAMP)
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	$(BIN)/python -m build --wheel --outdir $(WHEEL_DIR)/dist . > $(WHEEL_DIR)/build.log
	$(PYTHON) -m venv $(WHEEL_DIR)/venv
	$(WHEEL_DIR)/venv/bin/python -m pip install --quiet $(WHEEL_DIR)/dist/*.whl
	bash tests/smoke/wheel_smoke.sh $(WHEEL_DIR)/venv/bin/corridor . $(WHEEL_DIR)/smoke

test: lint typecheck unit wheel-check

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# the real corridor against its sourced targets (docs/model.md); exit 1 if a target is missed
calibrate: $(STAMP)
	$(BIN)/corridor calibrate -r 20

# every shipped scenario against its baseline: the Scenarios table of docs/findings.md
headline: $(STAMP)
	$(BIN)/corridor headline -r 10

# the demand ensemble fitted to 2016–2023 (issues 12, 20): every structure's posterior (nested
# sampling, one structure a process), the stacking weights and the leave-one-year-out check;
# rewrites params/demand/*.yaml below their markers (same seed, same bytes; see
# docs/mode_choice.md for the time it takes)
fit-history: $(STAMP)
	$(BIN)/corridor fit-history --workers 2

# every year 2016–2025 simulated at the ensemble's demand, against Y1/Y2, with the ensemble's
# intervals in and out of sample; 2024–25 predicted (a few minutes)
backtest: $(STAMP)
	$(BIN)/corridor backtest -r 5

# The exploratory study (issue 22, docs/study.md): a Latin hypercube of 512 points over the
# main uncertainties of a 2026 year, one replication each, then PRIM on three questions and a
# report page that leads with the boxes in plain words. Resumable: after a kill, `make study`
# again runs only the missing points. Niced: it takes the 2 cores for about 8 minutes.
STUDY := results/study/corridor_2026
STUDY_WORKERS ?= 2
study: $(STAMP)
	nice -n 15 $(BIN)/corridor sweep scenarios/studies/corridor_2026.yaml --out $(STUDY) \
	  --resume -q --workers $(STUDY_WORKERS)
	$(BIN)/corridor study-report $(STUDY) --out $(STUDY)/report.html \
	  --figure $(STUDY)/where_it_breaks.png

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
