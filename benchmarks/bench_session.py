"""Time from the command to the first prompt of a debug session: `debugbox shell TARGET` against running the
same `docker run` argv by hand (the physical limit: debugbox's own cost is resolving the target, planning and
exec'ing), and against a plain toolbox shell without the session bootstrap (what the bootstrap itself costs).

Each round runs them in alternation (each going first in turn) on a pseudo-terminal, as a user's terminal
would, and stops the clock when the prompt appears (`[debug NAME] /... # ` for the session, `/ # ` for the
plain shell); then it types `exit`. The target is the distroless-like test image, the toolbox the busybox test image
(tests/integration/docker/engine.py; containers named `dbx-<random>`, removed at the end).

    .venv/bin/python benchmarks/bench_session.py [--rounds 15]

Also in each round, to show where `debugbox shell`'s extra time goes: `debugbox shell TARGET --print` (all
of debugbox's own work: start, imports, the engine calls, the plan; it prints the argv instead of exec'ing it)
and the floor under it: `python -S -c pass`, `python -c pass`, and Python importing the standard library a CLI
like this needs (`STDLIB`), with their CPU times. Prints medians, p90, the overheads (target: at most +10 %; for
`debugbox shell` also the median of each round's difference to the argv by hand, which takes out the engine's
drift between rounds) and the load average before and after. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import pty
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from debugbox.core.settings import Settings  # noqa: E402
from debugbox.edge import service  # noqa: E402

from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers, build_test_images, engine_ok  # noqa: E402

#: A session that has not prompted after this long is reported as a failure, not waited for.
PROMPT_TIMEOUT = 60.0


def installed_env(pycache: str) -> dict[str, str]:
    """The environment of an installed debugbox: bytecode cached (here in a scratch folder, not the checkout)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def debugbox_command() -> list[str]:
    """What a user types: the `debugbox` command installed beside this interpreter (pip's console script, which
    imports `debugbox.cli` directly); `python -m debugbox` only where none is installed, since `-m` adds `runpy`
    and `importlib.util` (~10 ms) that the command does not load."""
    installed = Path(sys.executable).parent / "debugbox"
    return [str(installed)] if installed.is_file() else [sys.executable, "-m", "debugbox"]


def to_prompt(argv: Sequence[str], prompt: bytes, env: dict[str, str] | None = None) -> float:
    """Seconds from starting `argv` on a new pty to `prompt` appearing on it; then the shell is told to exit."""
    controller, terminal = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True
    )
    os.close(terminal)
    seen = b""
    try:
        while prompt not in seen:
            ready, _, _ = select.select([controller], [], [], PROMPT_TIMEOUT)
            if not ready:
                raise TimeoutError(f"no prompt from {argv[:3]} within {PROMPT_TIMEOUT:g} s: {seen[-300:]!r}")
            try:
                seen += os.read(controller, 65536)
            except OSError as exc:  # the session ended before prompting
                raise RuntimeError(f"{argv[:3]} ended before prompting: {seen[-300:]!r}") from exc
        elapsed = time.perf_counter() - start
        os.write(controller, b"exit\n")
        proc.wait(timeout=PROMPT_TIMEOUT)
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)


#: What `debugbox shell` cannot do without in the standard library (argument parsing, JSON, dataclasses,
#: sockets, paths, threads for the engine deadline, URL quoting): the floor of any Python CLI doing
#: its job, measured as its own row. `inspect` stays out of it, as it stays out of debugbox's path
#: (`cli.defer_import`: dataclasses imports it only for classes without a docstring).
STDLIB = (
    "import sys, types; sys.modules['inspect'] = types.ModuleType('inspect'); "
    "import argparse, json, re, dataclasses, socket, pathlib, threading, urllib.parse, typing, base64"
)


def run_timed(argv: Sequence[str], env: dict[str, str], cpu: list[float]) -> float:
    """Seconds from spawning `argv` (output discarded) to its exit; its CPU seconds are appended to `cpu` (the
    figure the load distorts least)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(list(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return elapsed


def row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"| {name} | {statistics.median(values) * 1000:.0f} | {p90 * 1000:.0f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not engine_ok():
        print("no Docker engine answers (scripts/start-docker.sh starts one)", file=sys.stderr)
        return 1
    build_test_images()
    pool = Containers()
    pycache = tempfile.mkdtemp(prefix="dbx-bench-pyc-")
    env = installed_env(pycache)
    try:
        target = pool.run(DISTROLESS)
        settings = Settings(toolbox_image=TOOLBOX)
        by_hand = service.plan(settings, target, service.plan_options(settings)).argv
        plain = service.plan(settings, target, service.plan_options(settings, raw=True)).argv
        debugbox = [*debugbox_command(), "shell", target, "--image", TOOLBOX]
        session_prompt = f"[debug {target}] /".encode()
        times: dict[str, list[float]] = {
            "debugbox": [],
            "editor": [],
            "hand": [],
            "plain": [],
            "print": [],
            "python": [],
            "python-S": [],
            "stdlib": [],
        }
        cpu: dict[str, list[float]] = {key: [] for key in ("print", "python", "python-S", "stdlib")}
        load_before = os.getloadavg()[0]
        to_prompt(by_hand, session_prompt)  # warm the engine's and the page cache once
        to_prompt(debugbox, session_prompt, env)  # and write debugbox's bytecode, as an install has it

        def editor_path() -> float:
            # The running language server plans in-process, the editor runs the argv.
            start = time.perf_counter()
            planned = service.plan(settings, target, service.plan_options(settings)).argv
            return time.perf_counter() - start + to_prompt(planned, session_prompt)

        sessions: list[tuple[str, Callable[[], float]]] = [
            ("debugbox", lambda: to_prompt(debugbox, session_prompt, env)),
            ("editor", editor_path),
            ("hand", lambda: to_prompt(by_hand, session_prompt)),
            ("plain", lambda: to_prompt(plain, b"/ # ")),
        ]
        for round_ in range(args.rounds):
            # Each way goes first in turn: the first session of a round (after the timed launches below) took
            # 30-140 ms longer than the same way later in a round, whichever way it was (16 rounds, 2026-12-07).
            turn = round_ % len(sessions)
            for key, session in sessions[turn:] + sessions[:turn]:
                times[key].append(session())
            times["print"].append(run_timed([*debugbox, "--print"], env, cpu["print"]))
            times["python"].append(run_timed([sys.executable, "-c", "pass"], env, cpu["python"]))
            times["python-S"].append(run_timed([sys.executable, "-S", "-c", "pass"], env, cpu["python-S"]))
            times["stdlib"].append(run_timed([sys.executable, "-c", STDLIB], env, cpu["stdlib"]))
    finally:
        pool.cleanup()
        shutil.rmtree(pycache, ignore_errors=True)
    overhead = statistics.median(times["debugbox"]) / statistics.median(times["hand"]) - 1
    editor = statistics.median(times["editor"]) / statistics.median(times["hand"]) - 1
    bootstrap = statistics.median(times["hand"]) / statistics.median(times["plain"]) - 1
    print(
        f"Command to first prompt, {args.rounds} rounds, load average {load_before:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after (ms):\n"
    )
    print("| how | median | p90 |\n|---|---|---|")
    print(row("`debugbox shell TARGET` (resolve, plan, exec the argv)", times["debugbox"]))
    print(row("the editor: the server's plan (in-process) + the argv", times["editor"]))
    print(row("the same `docker run` argv by hand", times["hand"]))
    print(row("plain `docker run … toolbox` without the bootstrap (`--raw`)", times["plain"]))
    print(row("`debugbox shell TARGET --print`: debugbox's own work, no session", times["print"]))
    print(row("`python -c pass`: the interpreter's start (site included)", times["python"]))
    print(row("`python -S -c pass`: the interpreter alone", times["python-S"]))
    print(
        row(
            "`python -c 'import argparse, json, dataclasses, socket, …'`: the stdlib it needs",
            times["stdlib"],
        )
    )
    print(
        "\nCPU time (user + system), medians, ms: "
        + ", ".join(f"{name} {statistics.median(values) * 1000:.0f}" for name, values in cpu.items())
    )
    # The same round's two sessions met the same engine (its latency drifts by hundreds of ms between rounds):
    # the median of the per-round differences is the time debugbox adds with that drift taken out.
    paired = statistics.median(d - h for d, h in zip(times["debugbox"], times["hand"], strict=True))
    own = statistics.median(times["print"]) / statistics.median(times["hand"])
    floor = statistics.median(times["python"]) / statistics.median(times["hand"])
    print(f"\n`debugbox shell`: {overhead * 100:+.1f} % over the same argv by hand (target: at most +10 %)")
    print(
        f"  paired: median of the per-round differences {paired * 1000:+.0f} ms = "
        f"{paired / statistics.median(times['hand']) * 100:+.1f} % of the argv by hand's median"
    )
    print(f"the editor's path: {editor * 100:+.1f} % over the same argv by hand (target: at most +10 %)")
    print(f"the bootstrap's cost over a plain toolbox shell: {bootstrap * 100:+.1f} %")
    print(f"debugbox's own work (--print): {own * 100:.1f} % of the argv by hand's time")
    print(f"the interpreter's start alone (python -c pass): {floor * 100:.1f} % of it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
