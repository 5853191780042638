"""How fast a click becomes a terminal: `debugbox.openDebugTerminal` → the `debugbox/openTerminal` request,
with N running containers on the local engine, against one `docker ps` CLI call measured in the same run.

The target of the issue: opening a debug terminal is no slower than one `docker ps`. Each round measures, in
alternation, a `docker ps` and an openDebugTerminal for a different container (half distroless, whose ladder
ends at the sidecar after archive/stat checks, half with a shell); a `debugbox.listTargets` with every
container probed is measured for context. Containers and test images come from
tests/integration/docker/engine.py (images built FROM scratch with the machine's static busybox, containers
named `dbx-<random>` and removed at the end).

    .venv/bin/python benchmarks/bench_terminal.py [--containers 20] [--rounds 30]

Prints a Markdown table; asserts nothing (the figures go into the report, ratios matter more than absolutes).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from lsp_client import LspClient, default_capabilities  # noqa: E402

from tests.integration.docker.engine import (  # noqa: E402
    DISTROLESS,
    SHELL_APP,
    TOOLBOX,
    Containers,
    build_test_images,
    engine_ok,
)

OPEN_TERMINAL = "debugbox/openTerminal"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def docker_ps() -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "ps"], capture_output=True, check=True)
    return time.perf_counter() - start


def open_terminal(client: LspClient, target: str) -> tuple[float, float]:
    """(command sent → openTerminal request received, → command answered), in seconds."""
    before = len(client.server_requests)
    exchange = client.request_async(
        "workspace/executeCommand",
        {"command": "debugbox.openDebugTerminal", "arguments": [{"target": target}]},
    )
    result = client.wait(exchange, 30)
    if not result or result.get("opened") is not True:
        raise RuntimeError(f"no terminal for {target}: {result}")
    asked = next(r for r in client.server_requests[before:] if r.method == OPEN_TERMINAL)
    assert exchange.answered is not None
    return asked.at - exchange.sent, exchange.answered - exchange.sent


def list_targets(client: LspClient) -> float:
    exchange = client.request_async(
        "workspace/executeCommand", {"command": "debugbox.listTargets", "arguments": [{}]}
    )
    client.wait(exchange, 30)
    assert exchange.answered is not None
    return exchange.answered - exchange.sent


def row(name: str, values: list[float], reference: float) -> str:
    med = statistics.median(values)
    return (
        f"| {name} | {med * 1000:.1f} | {percentile(values, 0.95) * 1000:.1f} | {len(values)} | "
        f"{med / reference:.2f}x |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    if not engine_ok():
        print(
            "bench_terminal: no Docker engine answers (scripts/start-docker.sh starts one)", file=sys.stderr
        )
        return 1
    build_test_images()
    pool = Containers()
    try:
        names = [pool.run(DISTROLESS if i % 2 == 0 else SHELL_APP) for i in range(args.containers)]
        with tempfile.TemporaryDirectory(prefix="dbx-bench-") as work:
            caps: dict[str, Any] = default_capabilities()
            caps["experimental"] = {"debugbox": {"openTerminal": True}}
            client = LspClient([sys.executable, "-m", "debugbox", "lsp"], cwd=ROOT)
            client.handlers[OPEN_TERMINAL] = lambda _params: {"opened": True}
            with client:
                client.initialize(
                    Path(work), capabilities=caps, initialization_options={"toolboxImage": TOOLBOX}
                )
                open_terminal(client, names[0])  # warm-up: the first call imports the runtime modules
                docker_ps()
                ps: list[float] = []
                to_request: list[float] = []
                to_answer: list[float] = []
                listing: list[float] = []
                for i in range(args.rounds):
                    ps.append(docker_ps())
                    asked, answered = open_terminal(client, names[i % len(names)])
                    to_request.append(asked)
                    to_answer.append(answered)
                    if i % 3 == 0:
                        listing.append(list_targets(client))
    finally:
        pool.cleanup()
    reference = statistics.median(ps)
    print(f"\n{args.containers} running containers, {args.rounds} rounds (alternating), times in ms\n")
    print("| measurement | median | p95 | n | vs docker ps |")
    print("|---|---:|---:|---:|---:|")
    print(row("`docker ps` (CLI process)", ps, reference))
    print(row("openDebugTerminal → `debugbox/openTerminal` request", to_request, reference))
    print(row("openDebugTerminal → command answered", to_answer, reference))
    print(row(f"listTargets, {args.containers} containers probed", listing, reference))
    verdict = "met" if statistics.median(to_request) <= reference else "MISSED"
    print(f"\ntarget (openTerminal request no slower than one docker ps): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
