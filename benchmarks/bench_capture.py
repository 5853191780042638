"""Capture overhead (#15): `debugbox capture TARGET --count N` against the same tcpdump helper run by hand.

The target is the distroless-like test container (no shell, no tcpdump inside), the toolbox the one the tests
build from Debian's packages (tests/integration/toolbox_debs.py: it has tcpdump). While a thread keeps HTTP
requests flowing to the target, each round runs, alternating:

- **debugbox**: `python -m debugbox capture TARGET --count N --filter 'tcp port 8080' -o FILE --image TOOLBOX`
  (resolve the target, start the helper, write the pcap, remove the helper, count the packets);
- **by hand**: the helper's own argv (`capture_argv`: `docker run --rm -i --network container:T --cap-add
  NET_RAW --cap-add NET_ADMIN --entrypoint tcpdump TOOLBOX -i any -U -c N -w - -- tcp port 8080`), stdout to a
  file — the physical limit: what any tool must do to capture from a shell-less target.

Wall time from spawn to exit; both pcaps are checked to hold N packets. Containers are named `dbx-<random>`
(helpers `debugbox-capture-…`) and removed at the end.

    .venv/bin/python benchmarks/bench_capture.py [--rounds 10] [--count 20]

Prints medians, p90 and debugbox's overhead over the hand-run helper, with the load average. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from debugbox.core.targets.capture import capture_argv, summarize_pcap  # noqa: E402

from benchmarks.bench_session import row  # noqa: E402 - one table format for both
from tests.integration.docker.engine import DISTROLESS, Containers, build_test_images, docker, engine_ok  # noqa: E402
from tests.integration.toolbox_debs import ensure_toolbox  # noqa: E402

FILTER = "tcp port 8080"


def traffic(url: str, stop: threading.Event) -> None:
    """Requests to `url` every 20 ms until `stop` (about ten packets each: handshake, request, answer, close)."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                resp.read()
        except OSError:
            pass
        stop.wait(0.02)


def timed(argv: list[str], out: Path | None = None, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    if out is None:
        subprocess.run(argv, check=True, capture_output=True, timeout=300, env=env)
    else:
        with out.open("wb") as f:
            subprocess.run(argv, check=True, stdout=f, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - start


def packets(path: Path) -> int:
    return summarize_pcap(path.read_bytes()).packets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--count", type=int, default=20, help="packets per capture")
    args = parser.parse_args()
    if not engine_ok():
        print("no Docker engine answers (scripts/start-docker.sh starts one)", file=sys.stderr)
        return 1
    build_test_images()
    toolbox = ensure_toolbox(("docker",))
    docker_cli = shutil.which("docker") or "docker"
    pool = Containers()
    work = Path(tempfile.mkdtemp(prefix="dbx-bench-capture-"))
    # An installed debugbox has its bytecode cached: here in a scratch folder, not the checkout.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    stop = threading.Event()
    times: dict[str, list[float]] = {"debugbox": [], "hand": []}
    load_before = os.getloadavg()[0]
    try:
        target = pool.run(DISTROLESS)
        ip = docker(
            "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", target
        ).strip()
        cid = docker("inspect", "-f", "{{.Id}}", target).strip()
        threading.Thread(target=traffic, args=(f"http://{ip}:8080/", stop), daemon=True).start()
        debugbox = [sys.executable, "-m", "debugbox", "capture", target, "--count", str(args.count)]
        debugbox += ["--filter", FILTER, "--image", toolbox, "--force", "-o"]

        def by_hand(out: Path) -> float:
            name = f"debugbox-capture-{uuid.uuid4().hex[:10]}"
            return timed(list(capture_argv((docker_cli,), cid, toolbox, name, FILTER, count=args.count)), out)

        # Warm the engine's and the page cache, and write debugbox's bytecode, once each.
        by_hand(work / "warm-hand.pcap")
        timed([*debugbox, str(work / "warm-debugbox.pcap")], env=env)
        for i in range(args.rounds):
            mine, theirs = work / f"d{i}.pcap", work / f"h{i}.pcap"
            times["debugbox"].append(timed([*debugbox, str(mine)], env=env))
            times["hand"].append(by_hand(theirs))
            if i == 0 and not packets(mine) == packets(theirs) == args.count:
                print(f"bench_capture: expected {args.count} packets in both pcaps", file=sys.stderr)
                return 1
    finally:
        stop.set()
        pool.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    overhead = statistics.median(times["debugbox"]) / statistics.median(times["hand"]) - 1
    print(
        f"Capture of {args.count} packets, {args.rounds} rounds, load average {load_before:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after (ms):\n"
    )
    print("| how | median | p90 |\n|---|---|---|")
    print(row(f"`debugbox capture TARGET --count {args.count}`", times["debugbox"]))
    print(row("the same tcpdump helper (`docker run … tcpdump -c N -w -`) by hand", times["hand"]))
    print(f"\n`debugbox capture`: {overhead * 100:+.1f} % over the helper run by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
