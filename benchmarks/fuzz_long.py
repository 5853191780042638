"""The long-running protocol fuzz: the hypothesis sessions of tests/robustness with fresh seeds and many more
examples, plus the hand-picked worst cases, against a real `debugbox lsp` process.

    .venv/bin/python benchmarks/fuzz_long.py                      # 20,000 examples per seed, 3 random seeds
    .venv/bin/python benchmarks/fuzz_long.py --examples 100000 --seeds 1 --minutes 60

A failing seed is printed with the command that replays it (`--seed N`). Exit code 0 only if every run passed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/robustness/test_robustness_fuzz.py"


def run(seed: int, examples: int) -> int:
    env = dict(os.environ, DEBUGBOX_FUZZ_EXAMPLES=str(examples))
    argv = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}"]
    argv += ["--hypothesis-show-statistics", "-x"]
    print(f"== seed {seed}, {examples} examples: {' '.join(argv[2:])}", flush=True)
    return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=20_000, help="hypothesis examples per seed")
    p.add_argument("--seeds", type=int, default=3, help="how many random seeds to run")
    p.add_argument("--seed", type=int, action="append", help="run exactly this seed (repeatable)")
    p.add_argument("--minutes", type=float, default=0, help="stop starting new seeds after this long")
    args = p.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(2**32) for _ in range(args.seeds)]
    started = time.monotonic()
    failed = []
    for seed in seeds:
        if args.minutes and time.monotonic() - started > args.minutes * 60:
            break
        if run(seed, args.examples) != 0:
            failed.append(seed)
    for seed in failed:
        print(
            f"FAILED seed {seed}: replay with python benchmarks/fuzz_long.py --seed {seed}", file=sys.stderr
        )
    print(f"{len(seeds)} seeds, {len(failed)} failed, {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
