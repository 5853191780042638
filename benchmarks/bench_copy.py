"""Copy throughput: `debugbox cp` against `docker cp` of the same file on the same engine (#15: goal ≥ 0.8x).

A 100 MB file of random bytes is put into a running distroless-like test container once; then each round copies
it out with `docker cp CONTAINER:/big.bin DEST` and with `debugbox cp docker://CONTAINER:/big.bin DEST`
(alternating, who goes first alternating too, a fresh destination each time, the bytes checked once), and the
other way in. debugbox runs with its bytecode cached, as an installed package has it. Wall time from spawn
to exit, so debugbox's Python start-up is counted. The container is named `dbx-<random>` and removed at the end.

    .venv/bin/python benchmarks/bench_copy.py [--rounds 5] [--mb 100]

Prints medians and the throughput ratio (docker cp time / debugbox cp time: above 1 means debugbox is faster).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.docker.engine import DISTROLESS, Containers, build_test_images, engine_ok  # noqa: E402


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True, timeout=600, env=env)
    return time.monotonic() - start


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def rounds_of(live: Containers, folder: Path, mb: int, rounds: int) -> dict[str, float]:
    """Median seconds per way and tool."""
    debugbox = [sys.executable, "-P", "-m", "debugbox", "cp"]
    # An installed debugbox has its bytecode cached (here in a scratch folder, not the checkout); without it
    # every run would compile the modules it imports, a cost no user pays twice.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    name = live.run(DISTROLESS)
    src = folder / "big.bin"
    with src.open("wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))
    want = digest(src)
    subprocess.run(["docker", "cp", str(src), f"{name}:/big.bin"], check=True, timeout=600)
    timed([*debugbox, f"docker://{name}:/big.bin", str(folder / "warm.bin")], env)  # writes the bytecode
    (folder / "warm.bin").unlink()
    keys = ("out: docker cp", "out: debugbox cp", "in: docker cp", "in: debugbox cp")
    rows: dict[str, list[float]] = {k: [] for k in keys}
    for i in range(rounds):
        out_d, out_b = folder / f"d{i}.bin", folder / f"b{i}.bin"
        runs = {
            "out: docker cp": (["docker", "cp", f"{name}:/big.bin", str(out_d)], None),
            "out: debugbox cp": ([*debugbox, f"docker://{name}:/big.bin", str(out_b)], env),
            "in: docker cp": (["docker", "cp", str(src), f"{name}:/in-d{i}.bin"], None),
            "in: debugbox cp": ([*debugbox, str(src), f"docker://{name}:/in-b{i}.bin"], env),
        }
        # Who goes first alternates: the one that follows a 100 MB write waits for its pages to be written
        # back, a cost the order, not the tool, decides.
        for way in ("out", "in"):
            tools = ("docker cp", "debugbox cp") if i % 2 == 0 else ("debugbox cp", "docker cp")
            for tool in tools:
                argv, tool_env = runs[f"{way}: {tool}"]
                rows[f"{way}: {tool}"].append(timed(argv, tool_env))
            if way == "out":
                if i == 0 and not (digest(out_d) == digest(out_b) == want):
                    sys.exit("bench_copy: the copies differ from the source")
                out_d.unlink()
                out_b.unlink()
    return {k: statistics.median(v) for k, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    if not engine_ok():
        sys.exit("bench_copy: no Docker engine answers (bash scripts/start-docker.sh)")
    build_test_images()
    live = Containers()
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="dbx-bench-copy-") as tmp:
            med = rounds_of(live, Path(tmp), args.mb, args.rounds)
    finally:
        live.cleanup()
    print(
        f"{args.mb} MB, {args.rounds} rounds, load average {load_before:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after; medians:"
    )
    for key, value in med.items():
        print(f"  {key:18} {value:6.2f} s  {args.mb / value:7.1f} MB/s")
    for way in ("out", "in"):
        ratio = med[f"{way}: docker cp"] / med[f"{way}: debugbox cp"]
        print(f"{way}: debugbox cp throughput = {ratio:.2f}x docker cp's (goal >= 0.8x)")


if __name__ == "__main__":
    main()
