#!/usr/bin/env bash
# Smoke test of an installed (non-editable) corridor: run, plot, compare and report against a
# copy of one shipped scenario, from a folder outside the source tree, so nothing can be
# imported from the checkout. Usage: wheel_smoke.sh CORRIDOR_EXECUTABLE SOURCE_ROOT WORKDIR
set -euo pipefail
corridor=$(realpath "$1")
src=$(realpath "$2")
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cp "$src/scenarios/examples/mmc_queue.yaml" .
"$corridor" run mmc_queue.yaml -r 2 --set run.horizon_days=30 --out a -q
"$corridor" run mmc_queue.yaml -r 2 --set run.horizon_days=30 --set nodes.border.servers=4 --out b -q
"$corridor" plot a --kind queues --out queues.png
"$corridor" compare a b --metric node:border:wait_hours_mean --out comparison.png
"$corridor" report a b --out report.html
test -s queues.png && test -s comparison.png && grep -q "<html" report.html
# the package under test is the installed one, not the checkout
python_bin=$(dirname "$corridor")/python
"$python_bin" -c "import sim, sys; p = sim.__file__; sys.exit(0 if 'site-packages' in p else p)"
echo "wheel smoke test: run, plot, compare, report all worked from the installed wheel"
