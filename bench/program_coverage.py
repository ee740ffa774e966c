"""The program report's coverage at a larger size than its test: many seeded programs of the
pure model (tests/support/program_model.py) with a planted program-wide effect; prints how
often the 95% interval contained the truth, and the mean measured and true uplift.

    python bench/program_coverage.py [--runs 200] [--customers 20000] [--share 0.05]
                                     [--effect 0.08]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.program_model import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--effect", type=float, default=0.08)
    args = parser.parse_args()
    began = time.perf_counter()
    covered, measured, truth = 0, 0.0, 0.0
    for seed in range(args.runs):
        found, true = run(seed, args.customers, args.share, args.effect)
        u = found.uplift
        covered += u.low is not None and u.high is not None and u.low <= true <= u.high
        measured += u.absolute or 0
        truth += true
    print(f"{args.runs} programs of {args.customers:,} customers, global control "
          f"{args.share:g}, planted effect {args.effect:g}: interval covered the truth in "
          f"{covered}/{args.runs} ({covered / args.runs:.1%}); mean measured "
          f"{measured / args.runs * 100:+.2f} pts, mean true {truth / args.runs * 100:+.2f} "
          f"pts; {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
