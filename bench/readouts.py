"""The pooled readout's proof at full size: 1,000 seeded trials per shipped daily playbook
(engine/measurement/readout_trials.py: its holdout and goal window, a daily ticket of 1,000
customers, a 5% base rate, looked at every evening for 90 days), with +5 pts planted and with
nothing.

Prints, per playbook: the day power predicted (80% power for +5 pts) and the chance it
predicts for that day (the first day at or above 80%, so often more), the share of trials
whose readout said `works` by that day (to compare with that chance), the share that ever
said `works` with nothing planted (the type-I error under daily looks), and the share whose
interval held the truth on every evening. `python bench/readouts.py --runs 50` is the size
`make test` checks (tests/unit/measurement/test_sequential.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config_loader import load_config  # noqa: E402
from engine.folders import Folders  # noqa: E402
from engine.measurement.readout_trials import run, shipped_designs  # noqa: E402
from engine.measurement.sequential import WORKS  # noqa: E402
from engine.playbooks.library import load_library  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    config = dataclasses.replace(load_config(ROOT / "config.yaml"),
                                 folders=Folders(ROOT / "rules", ROOT / "workflows"))
    designs = shipped_designs(load_library(config), args.members)
    print(f"{'playbook':<12} {'holdout':>7} {'window':>6} {'power day':>9} {'predicted':>9} "
          f"{'works by it':>11} {'null: works':>11} {'covered':>8} {'seconds':>8}")
    for name, (planted, null) in designs.items():
        started = time.perf_counter()
        day = planted.predicted_day()
        found = [run(planted, seed) for seed in range(args.runs)]
        empty = [run(null, seed) for seed in range(args.runs)]
        by_day = sum(1 for t in found if t.verdict == WORKS and t.day is not None
                     and day is not None and t.day <= day) / args.runs
        false = sum(1 for t in empty if t.verdict == WORKS) / args.runs
        covered = sum(t.covered for t in [*found, *empty]) / (2 * args.runs)
        chance = "-" if day is None else f"{planted.chance_by(day):.1%}"
        print(f"{name:<12} {planted.holdout:>7.0%} {planted.window:>5}d "
              f"{'-' if day is None else f'{day:.0f}':>9} {chance:>9} {by_day:>11.1%} "
              f"{false:>11.1%} "
              f"{covered:>8.1%} {time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()
