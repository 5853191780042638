"""Worst-case Dockerfiles up to 1 MB: wall time and peak RSS of a whole `debugbox check` / `inspect` process.

The target of issue #10 §2: any Dockerfile up to 1 MB is analysed in < 2 s with < 200 MB peak RSS for the whole
CLI process, including growth by doubling and tripling, ENV chains, nested defaults/alternates and stage-local
ARGs. Each input is generated here (deterministic), written to a temporary directory, and analysed by a fresh
`python -m debugbox check FILE` and `python -m debugbox inspect --json FILE`; time is wall-clock from spawn to
exit, RSS is the child's `ru_maxrss` from `os.wait4`. The CLI start-up alone (an empty-ish Dockerfile) is
measured for context.

    .venv/bin/python benchmarks/bench_worst_dockerfile.py [--runs 3] [--out benchmarks/results-worst-dockerfile.md]

Prints a Markdown table (medians over the runs; the worst RSS) and writes it to `--out`; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MB = 1_000_000
ROOT = Path(__file__).resolve().parent.parent


def _fill(lines: list[str], make: Callable[[int], str], limit: int = MB) -> str:
    """Append `make(i)` lines until the file is just under `limit` bytes."""
    size = sum(len(x) + 1 for x in lines)
    i = len(lines)
    while True:
        line = make(i)
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def doubling_835() -> str:
    lines = ["ARG A0=alpine"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 41)]
    return "\n".join([*lines, "FROM $A40"]) + "\n"


def doubling_1mb() -> str:
    return _fill(["ARG A0=alpine"], lambda i: f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}", MB - 20) + "FROM $A40\n"


def tripling_1mb() -> str:
    text = _fill(["ARG A0=alpine"], lambda i: f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}${{A{i - 1}}}", MB - 20)
    return text + "FROM $A30\n"


def env_chain_1mb() -> str:
    """Stage-level ENV growing by concatenation, each line referencing the previous twice."""
    return _fill(["FROM alpine", "ENV E0=x"], lambda i: f"ENV E{i}=$E{i - 1}$E{i - 1}")


def env_wide_1mb() -> str:
    """50k+ ENV lines, each a fresh value referencing the one before (linear cost matters)."""
    return _fill(["FROM alpine", "ENV E0=x"], lambda i: f"ENV E{i}=$E{i - 1}")


def args_50k() -> str:
    lines = [f"ARG A{i}=v{i}" for i in range(50_000)]
    return "\n".join([*lines, "FROM alpine:${A49999}"]) + "\n"


def nested_defaults_1mb() -> str:
    depth = (MB - 100) // 12
    word = "${A:-${B:+" * depth + "alpine" + "}}" * depth
    return f"FROM alpine\nENV X={word}\n"


def nested_alternates_1mb() -> str:
    depth = (MB - 100) // 6
    return "ARG A=x\nFROM ${A:+" * 1 + "alpine}\nENV X=" + "${A:+" * depth + "y" + "}" * depth + "\n"


def nested_lines_1mb() -> str:
    """Nested defaults BuildKit accepts: many ENV lines just under its 64 KiB line limit, 5,000 levels each."""
    depth = 5_000
    line = "ENV X=" + "${A:-${B:+" * depth + "v" + "}}" * depth
    return "FROM alpine\n" + "\n".join([line] * (MB // (len(line) + 1))) + "\n"


def stage_local_args_1mb() -> str:
    """Many stages, each redeclaring global ARGs and doubling stage-local ones."""
    head = ["ARG G=alpine"]

    def stage(i: int) -> str:
        return f"FROM $G AS s{i}\nARG G\nARG L=${{G}}${{G}}\nARG M=${{L}}${{L}}${{L}}\nUSER ${{M}}"

    return _fill(head, stage)


def stage_chain_1mb() -> str:
    """Each stage builds on the previous one and adds an ENV: inherited environments must be shared."""
    return _fill(["FROM alpine AS s0", "ENV V0=0"], lambda i: f"FROM s{i - 1} AS s{i}\nENV V{i}=$V{i - 1}")


def heredoc_1mb() -> str:
    body = "echo hello\n" * ((MB - 100) // 11)
    return f"FROM alpine\nRUN <<EOF\n{body}EOF\n"


INPUTS: dict[str, Callable[[], str]] = {
    "startup (FROM alpine)": lambda: "FROM alpine\n",
    "doubling, 835 bytes (#10)": doubling_835,
    "doubling, 1 MB": doubling_1mb,
    "tripling, 1 MB": tripling_1mb,
    "ENV doubling chain, 1 MB": env_chain_1mb,
    "ENV chain, 1 MB": env_wide_1mb,
    "50k global ARG lines": args_50k,
    "nested ${:-${:+}}, 1 MB": nested_defaults_1mb,
    "nested ${:+}, 1 MB": nested_alternates_1mb,
    "nested, 16 lines < 64 KiB": nested_lines_1mb,
    "stage-local ARGs, 1 MB": stage_local_args_1mb,
    "stage chain, 1 MB": stage_chain_1mb,
    "heredoc body, 1 MB": heredoc_1mb,
}


def measure(argv: list[str]) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS in MiB, exit code, CPU seconds) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if "Traceback" in err:
            raise SystemExit(f"{argv}: traceback\n{err}")
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results-worst-dockerfile.md"
    )
    args = parser.parse_args()
    python = sys.executable
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in INPUTS.items():
            text = make()
            path = Path(tmp) / "Dockerfile"
            path.write_text(text, encoding="utf-8")
            size = len(text.encode())
            for command in ("check", "inspect"):
                argv = [python, "-m", "debugbox", command, str(path)]
                if command == "inspect":
                    argv.insert(4, "--json")
                samples = [measure(argv) for _ in range(args.runs)]
                secs = statistics.median(s[0] for s in samples)
                cpu = statistics.median(s[3] for s in samples)
                rss = max(s[1] for s in samples)
                codes = ",".join(map(str, sorted({s[2] for s in samples})))
                rows.append((name, size, command, secs, cpu, rss, codes))
                print(
                    f"{name:32} {size:>9} {command:8} {secs:5.2f} s {cpu:5.2f} cpu {rss:4.0f} MiB {codes}",
                    flush=True,
                )
    load_after = os.getloadavg()[0]
    worst_time = max(r[3] for r in rows)
    worst_cpu = max(r[4] for r in rows)
    worst_rss = max(r[5] for r in rows)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# Worst-case Dockerfile analysis",
        "",
        "Written by `benchmarks/bench_worst_dockerfile.py` (inputs generated there; see `benchmarks/README.md`).",
        "",
        f"Measured {stamp} on {os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{load_before:.1f} before / {load_after:.1f} after; {args.runs} runs, median wall and CPU (user + system) "
        "time, worst peak RSS of the whole CLI process.",
        "",
        "| input | bytes | command | time (s) | CPU (s) | peak RSS (MiB) | exit |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for name, size, command, secs, cpu, rss, codes in rows:
        lines.append(f"| {name} | {size:,} | {command} | {secs:.2f} | {cpu:.2f} | {rss:.0f} | {codes} |")
    verdict = "met" if worst_time < 2 and worst_rss < 200 else "missed"
    lines += [
        "",
        f"Target (#10 §2): every input < 2 s and < 200 MiB. Worst: {worst_time:.2f} s ({worst_cpu:.2f} s of CPU), "
        f"{worst_rss:.0f} MiB: {verdict}. Wall time includes waiting for a core on a shared machine; CPU time is "
        "what the process itself spent.",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
