"""Every benchmark, one after the other, each in a fresh process (`make bench`).

    python benchmarks/run_all.py          # full sizes: about 9 minutes on 2 cores
    python benchmarks/run_all.py --quick  # small sizes, for a smoke run while developing

Each script prints its own figures and ratios; nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    quick = {
        "overhead.py": ["--trains", "20000", "--repeats", "3"],
        "corridor.py": ["--repeats", "1"],
        "scaling.py": ["--quick", "--repeats", "1"],
        "sweep_scaling.py": ["--runs-per-worker", "2", "--horizon-days", "300", "--repeats", "1"],
        "history_fit.py": ["--repeats", "1"],
        "border.py": ["--repeats", "1"],
        "memory.py": ["--replications", "2", "--horizon-days", "30"],
    }
    status = 0
    scripts = (
        "overhead.py",
        "corridor.py",
        "scaling.py",
        "sweep_scaling.py",
        "history_fit.py",
        "border.py",
        "memory.py",
    )
    for script in scripts:
        extra = quick[script] if args.quick else []
        done = subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
        status = status or done.returncode
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
