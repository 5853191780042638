"""Side-by-side LSP benchmark: debugbox against the servers people already run, on the same files, in one run.

For every (server, input) pair a fresh server process is started and measured over stdio:

- `init`: process start → `initialize` result;
- `open`: `didOpen` → the first `publishDiagnostics` for the document;
- `change`: `didChange` inserting one line mid-file → the first `publishDiagnostics` for the new version (a
  publish that names an older version is skipped);
- `ca p50/p95`: `codeAction` latency over the whole document and over single lines spread through the file,
  with the published diagnostics of those lines in the context, as an editor sends them;
- `pick p50/p95`: for each single line whose list has an action without its edit (the client declares
  `resolveSupport` for `edit`, as VS Code does), `codeAction/resolve` of the first one: the wait after the user
  picks it (the server checks the edit then);
- `hover p50/p95`: on `FROM` lines (Dockerfiles) or `image:` values (manifests), where the server offers
  hover;
- `rss`: peak resident memory of the server's whole process tree, polled from /proc every 10 ms.

Servers and inputs alternate (the server order rotates every run) and each figure is the median over the runs.
The real corpus (`../shared/corpus`, resolved like tests/conftest.py) is measured in one session per server
that opens every file in turn. `run.sh` installs the npm servers and writes `results.md`; this module does the
measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from lsp_client import LspClient, ResponseError, insert_line_change, sync_kind  # noqa: E402

DOCKERFILE = "dockerfile"
MANIFEST = "manifest"

YAML_LS_CONFIG: dict[str, Any] = {
    "yaml": {
        "validate": True,
        "hover": True,
        "completion": True,
        "format": {"enable": False},
        "schemaStore": {"enable": False, "url": ""},
        "schemas": {},
        "kubernetesCRDStore": {"enable": False},
        "customTags": [],
        "maxItemsComputed": 5000,
    },
    "http": {"proxy": "", "proxyStrictSSL": False},
    "[yaml]": {},
    "editor": {"tabSize": 2, "detectIndentation": False},
    "files": {"associations": {}},
}


@dataclass(frozen=True)
class ServerSpec:
    name: str
    argv: tuple[str, ...]
    kinds: frozenset[str]
    config: dict[str, Any] = field(default_factory=dict)
    send_configuration: bool = False
    """Also push `config` by `workspace/didChangeConfiguration` after `initialized` (yaml-language-server)."""


def find_corpus() -> Path | None:
    """`../shared/corpus` next to the checkout, or `DEBUGBOX_CORPUS` (the same rule as tests/conftest.py)."""
    env = os.environ.get("DEBUGBOX_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus"]
    for c in candidates:
        if (c / "EXPECTED.tsv").is_file():
            return c
    return None


def servers(python: str, npm_bin: Path) -> list[ServerSpec]:
    specs = [
        ServerSpec(
            "bare-pygls", (python, str(HERE / "bare_pygls_server.py")), frozenset({DOCKERFILE, MANIFEST})
        ),
        ServerSpec("debugbox", (python, "-m", "debugbox", "lsp"), frozenset({DOCKERFILE, MANIFEST})),
    ]
    docker_ls = npm_bin / "docker-langserver"
    if docker_ls.exists():
        specs.append(ServerSpec("docker-langserver", (str(docker_ls), "--stdio"), frozenset({DOCKERFILE})))
    yaml_ls = npm_bin / "yaml-language-server"
    if yaml_ls.exists():
        specs.append(
            ServerSpec(
                "yaml-language-server",
                (str(yaml_ls), "--stdio"),
                frozenset({MANIFEST}),
                config=YAML_LS_CONFIG,
                send_configuration=True,
            )
        )
    return specs


@dataclass
class Input:
    name: str
    kind: str
    path: Path

    @property
    def language_id(self) -> str:
        return "dockerfile" if self.kind == DOCKERFILE else "yaml"


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def wait_quiet(client: LspClient, quiet: float = 0.25, limit: float = 5.0) -> None:
    """Wait until the server has sent no notification for `quiet` seconds (trailing publishes settle)."""
    end = time.monotonic() + limit
    seen = client.mark()
    last = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.02)
        now = client.mark()
        if now != seen:
            seen, last = now, time.monotonic()
        elif time.monotonic() - last >= quiet:
            return


def _overlapping(diags: Iterable[dict[str, Any]], line: int) -> list[dict[str, Any]]:
    return [d for d in diags if d["range"]["start"]["line"] <= line <= d["range"]["end"]["line"]]


def hover_positions(kind: str, text: str, count: int) -> list[dict[str, int]]:
    pattern = re.compile(r"^(FROM\s+)\S" if kind == DOCKERFILE else r"^(\s*-?\s*image:\s*)\S", re.IGNORECASE)
    found = []
    for i, line in enumerate(text.split("\n")):
        m = pattern.match(line)
        if m:
            # Dockerfiles: alternate the keyword (docker-langserver documents it) and the image (debugbox
            # resolves it).
            on_keyword = kind == DOCKERFILE and len(found) % 2 == 1
            found.append({"line": i, "character": 1 if on_keyword else len(m.group(1)) + 1})
    if len(found) > count:
        step = len(found) / count
        found = [found[int(k * step)] for k in range(count)]
    return found


def measure_session(spec: ServerSpec, item: Input, *, timeout: float = 120.0) -> dict[str, Any]:
    """Start `spec`, measure one document, shut it down."""
    text = item.path.read_text()
    uri = item.path.resolve().as_uri()
    out: dict[str, Any] = {"server": spec.name, "input": item.name}
    WORK.mkdir(exist_ok=True)
    client = LspClient(
        spec.argv,
        cwd=str(ROOT),
        config=spec.config,
        poll_rss=True,
        stderr_path=WORK / f"stderr-{spec.name}.log",
    )
    try:
        result, out["init"] = client.initialize(item.path.parent)
        caps = (result or {}).get("capabilities", {})
        if spec.send_configuration:
            client.notify("workspace/didChangeConfiguration", {"settings": spec.config})
        kind = sync_kind(result)
        start = client.mark()
        sent = client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": item.language_id, "version": 1, "text": text}},
        )
        try:
            _, note = client.wait_for_diagnostics(uri, timeout, start)
            out["open"] = note.at - sent
            out["open_diags"] = len(note.params["diagnostics"])
        except TimeoutError:
            out["open"] = None
        wait_quiet(client)
        line, new_line = generate.change_point(item.kind, text)
        text2, changes = insert_line_change(text, line, new_line, kind)
        start = client.mark()
        sent = client.notify(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": changes}
        )
        diags: list[dict[str, Any]] = []
        try:
            _, note = client.wait_for_diagnostics(uri, timeout, start, version=2)
            out["change"] = note.at - sent
            out["change_diags"] = len(note.params["diagnostics"])
        except TimeoutError:
            out["change"] = None
        wait_quiet(client)
        for note in reversed(client.notifications):
            if note.method == "textDocument/publishDiagnostics" and note.params.get("uri") == uri:
                diags = note.params["diagnostics"]
                break
        lines = text2.split("\n")
        if caps.get("codeActionProvider"):
            whole, single, picked = [], [], []
            end = {"line": len(lines) - 1, "character": len(lines[-1])}
            for _ in range(10):
                ex = client.request_async(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": {"line": 0, "character": 0}, "end": end},
                        "context": {"diagnostics": diags, "triggerKind": 1},
                    },
                )
                client.wait(ex, timeout)
                assert ex.answered is not None
                whole.append(ex.answered - ex.sent)
            picks = sorted({d["range"]["start"]["line"] for d in diags})[:20]
            picks += [int(k * len(lines) / 30) for k in range(30)]
            for ln in picks:
                pos = {"line": ln, "character": 0}
                ex = client.request_async(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": pos, "end": pos},
                        "context": {"diagnostics": _overlapping(diags, ln), "triggerKind": 1},
                    },
                )
                listed = client.wait(ex, timeout)
                assert ex.answered is not None
                single.append(ex.answered - ex.sent)
                unresolved = [
                    a for a in listed or () if "edit" not in a and "data" in a and "command" not in a
                ]
                if unresolved:
                    ex = client.request_async("codeAction/resolve", unresolved[0])
                    chosen = client.wait(ex, timeout)
                    assert ex.answered is not None and chosen.get("edit"), chosen
                    picked.append(ex.answered - ex.sent)
            out["ca_whole"] = whole
            out["ca_line"] = single
            out["ca_pick"] = picked
        if caps.get("hoverProvider"):
            hovers, answered = [], 0
            for pos in hover_positions(item.kind, text2, 30):
                ex = client.request_async(
                    "textDocument/hover", {"textDocument": {"uri": uri}, "position": pos}
                )
                try:
                    if client.wait(ex, timeout):
                        answered += 1
                except ResponseError:
                    pass
                assert ex.answered is not None
                hovers.append(ex.answered - ex.sent)
            out["hover"] = hovers
            out["hover_nonempty"] = answered
    finally:
        client.shutdown()
        out["rss"] = client.peak_rss
    return out


def measure_corpus(
    spec: ServerSpec, kind: str, files: list[Path], *, timeout: float = 10.0
) -> dict[str, Any]:
    """One session that opens every corpus file of `kind` in turn."""
    out: dict[str, Any] = {"server": spec.name, "input": f"corpus-{kind}", "files": len(files)}
    client = LspClient(
        spec.argv,
        cwd=str(ROOT),
        config=spec.config,
        poll_rss=True,
        stderr_path=WORK / f"stderr-{spec.name}.log",
    )
    opens: list[float] = []
    cas: list[float] = []
    silent = 0
    try:
        result, out["init"] = client.initialize(files[0].parent)
        caps = (result or {}).get("capabilities", {})
        if spec.send_configuration:
            client.notify("workspace/didChangeConfiguration", {"settings": spec.config})
        for path in files:
            text = path.read_text(errors="replace")
            uri = path.resolve().as_uri()
            start = client.mark()
            sent = client.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "dockerfile" if kind == DOCKERFILE else "yaml",
                        "version": 1,
                        "text": text,
                    }
                },
            )
            try:
                _, note = client.wait_for_diagnostics(uri, timeout, start)
                opens.append(note.at - sent)
            except TimeoutError:
                silent += 1
                out.setdefault("silent_files", []).append(path.name)
            if caps.get("codeActionProvider"):
                n = max(1, text.count("\n"))
                for ln in (0, n // 2, n - 1):
                    pos = {"line": ln, "character": 0}
                    ex = client.request_async(
                        "textDocument/codeAction",
                        {
                            "textDocument": {"uri": uri},
                            "range": {"start": pos, "end": pos},
                            "context": {"diagnostics": []},
                        },
                    )
                    client.wait(ex, timeout)
                    assert ex.answered is not None
                    cas.append(ex.answered - ex.sent)
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    finally:
        client.shutdown()
        out["rss"] = client.peak_rss
    out["open"] = statistics.median(opens) if opens else None
    out["open_p95"] = percentile(opens, 0.95)
    out["silent"] = silent
    if cas:
        out["ca_line"] = cas
    return out


def standard_inputs(sizes: dict[str, Sequence[int]] | None = None) -> list[Input]:
    written = generate.write_standard_set(WORK / "inputs")
    inputs = []
    for name, path in written.items():
        kind = DOCKERFILE if name.startswith("dockerfile") else MANIFEST
        n = int(name.rsplit("-", 1)[1])
        if sizes is not None and n not in sizes.get(kind, ()):
            continue
        inputs.append(Input(name, kind, path))
    return inputs


def corpus_files(corpus: Path) -> dict[str, list[Path]]:
    return {
        DOCKERFILE: sorted(p for p in (corpus / "dockerfiles").iterdir() if p.is_file()),
        MANIFEST: sorted(p for p in (corpus / "k8s").iterdir() if p.is_file()),
    }


def run_all(
    specs: list[ServerSpec], inputs: list[Input], runs: int, corpus: Path | None, log: Any = sys.stderr
) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for r in range(runs):
        order = specs[r % len(specs) :] + specs[: r % len(specs)]
        for item in inputs:
            for spec in order:
                if item.kind not in spec.kinds:
                    continue
                t = time.perf_counter()
                try:
                    sample = measure_session(spec, item)
                except Exception as exc:
                    sample = {"server": spec.name, "input": item.name, "error": repr(exc)}
                sample["run"] = r
                samples.append(sample)
                print(
                    f"run {r} {item.name:18} {spec.name:22} {time.perf_counter() - t:6.1f}s "
                    + " ".join(f"{k}={_fmt_s(sample.get(k))}" for k in ("init", "open", "change"))
                    + (f" error={sample['error']}" if "error" in sample else ""),
                    file=log,
                    flush=True,
                )
    if corpus is not None:
        for kind, files in corpus_files(corpus).items():
            for spec in specs:
                if kind not in spec.kinds or not files:
                    continue
                try:
                    sample = measure_corpus(spec, kind, files)
                except Exception as exc:
                    sample = {"server": spec.name, "input": f"corpus-{kind}", "error": repr(exc)}
                sample["run"] = 0
                samples.append(sample)
                print(f"corpus {kind} {spec.name}: open={_fmt_s(sample.get('open'))}", file=log, flush=True)
    return samples


def _fmt_s(value: Any) -> str:
    return "-" if value is None else f"{value * 1000:.1f}ms"


# -- aggregation and the Markdown table ---------------------------------------------------------------------


def aggregate(samples: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(server, input) → medians over runs of each figure (code-action/hover percentiles pooled over runs)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in samples:
        groups.setdefault((s["server"], s["input"]), []).append(s)
    agg: dict[tuple[str, str], dict[str, Any]] = {}
    for key, group in groups.items():
        ok = [s for s in group if "error" not in s]
        row: dict[str, Any] = {"runs": len(ok), "errors": [s["error"] for s in group if "error" in s]}
        for metric in ("init", "open", "change", "rss", "open_diags", "change_diags", "silent", "open_p95"):
            values = [s[metric] for s in ok if s.get(metric) is not None]
            row[metric] = statistics.median(values) if values else None
            row[f"{metric}_missing"] = sum(
                1 for s in ok if metric in ("open", "change") and s.get(metric) is None
            )
        for metric in ("ca_whole", "ca_line", "ca_pick", "hover"):
            pooled = [v for s in ok for v in s.get(metric, [])]
            row[f"{metric}_p50"] = percentile(pooled, 0.5)
            row[f"{metric}_p95"] = percentile(pooled, 0.95)
        ca_all = [v for s in ok for m in ("ca_whole", "ca_line") for v in s.get(m, [])]
        row["ca_p95"] = percentile(ca_all, 0.95)
        hn = [s["hover_nonempty"] for s in ok if "hover_nonempty" in s]
        row["hover_nonempty"] = statistics.median(hn) if hn else None
        agg[key] = row
    return agg


def _ms(value: float | None) -> str:
    return "n/a" if value is None else (f"{value * 1000:.0f}" if value >= 0.1 else f"{value * 1000:.1f}")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


#: Where `results.md`'s hand-recorded live-target section starts (kept when run.sh writes a new table).
LIVE_SECTION = "\n## Live targets"


def markdown(samples: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    agg = aggregate(samples)
    inputs = list(dict.fromkeys(s["input"] for s in samples))
    server_names = list(dict.fromkeys(s["server"] for s in samples))
    out = [
        f"Measured {meta['date']} on {meta['machine']}; {meta['runs']} runs, medians. "
        "Times in ms, RSS in MiB.",
        "",
    ]
    out += [
        "| input | server | init | open→diags | change→diags | ca whole p50/p95 | ca line p50/p95 "
        "| pick p50/p95 | hover p50/p95 | peak RSS | diags open/change |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in inputs:
        for name in server_names:
            row = agg.get((name, item))
            if row is None:
                continue
            if row["runs"] == 0:
                out.append(f"| {item} | {name} | failed: {row['errors'][0][:80]} | | | | | | | | |")
                continue
            open_cell = _ms(row["open"])
            if item.startswith("corpus"):
                open_cell += f" (p95 {_ms(row['open_p95'])}, {row['silent']:.0f} silent)"
            hover = (
                f"{_ms(row['hover_p50'])} / {_ms(row['hover_p95'])}"
                + (f" ({row['hover_nonempty']:.0f} non-empty)" if row["hover_nonempty"] is not None else "")
                if row["hover_p50"] is not None
                else "n/a"
            )
            diags = "/".join(
                "-" if row[m] is None else f"{row[m]:.0f}" for m in ("open_diags", "change_diags")
            )
            out.append(
                f"| {item} | {name} | {_ms(row['init'])} | {open_cell} | {_ms(row['change'])} | "
                f"{_ms(row['ca_whole_p50'])} / {_ms(row['ca_whole_p95'])} | "
                f"{_ms(row['ca_line_p50'])} / {_ms(row['ca_line_p95'])} | "
                f"{_ms(row['ca_pick_p50'])} / {_ms(row['ca_pick_p95'])} | {hover} | {_mb(row['rss'])} | "
                f"{diags} |"
            )
    out += ["", "### Targets", "", "| target | measured | ratio | verdict |", "|---|---|---:|---|"]
    for target in targets(agg, samples):
        out.append(f"| {target[0]} | {target[1]} | {target[2]} | {target[3]} |")
    return "\n".join(out) + "\n"


def targets(
    agg: dict[tuple[str, str], dict[str, Any]], samples: list[dict[str, Any]]
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []

    def verdict(r: float | None, limit: float) -> str:
        return "n/a" if r is None else ("met" if r <= limit else "**missed**")

    def inits(server: str) -> list[float]:
        return [s["init"] for s in samples if s["server"] == server and s.get("init") is not None]

    db, bare = inits("debugbox"), inits("bare-pygls")
    if db and bare:
        a, b = statistics.median(db), statistics.median(bare)
        r = _ratio(a, b)
        rows.append(
            ("initialize ≤ 1.2x bare pygls", f"{_ms(a)} vs {_ms(b)} ms", f"{r:.2f}x", verdict(r, 1.2))
        )
    pairs = (
        ("dockerfile-10000", "docker-langserver", "open", 0.5),
        ("dockerfile-10000", "docker-langserver", "change", 0.5),
        ("manifest-1000", "yaml-language-server", "open", 0.25),
        ("manifest-1000", "yaml-language-server", "change", 0.1),
        ("manifest-1000", "yaml-language-server", "rss", 0.5),
    )
    for item, other, metric, limit in pairs:
        mine, theirs = agg.get(("debugbox", item)), agg.get((other, item))
        if not mine or not theirs:
            continue
        a, b = mine.get(metric), theirs.get(metric)
        r = _ratio(a, b)
        fmt = _mb if metric == "rss" else _ms
        unit = "MiB" if metric == "rss" else "ms"
        rows.append(
            (
                f"{item} {metric} ≤ {limit}x {other}",
                f"{fmt(a)} vs {fmt(b)} {unit}",
                "n/a" if r is None else f"{r:.2f}x",
                verdict(r, limit),
            )
        )
    # Whole-document and single-line requests are judged separately: pooling them would hide the slower kind.
    worst = None
    for (server, item), row in agg.items():
        if server != "debugbox" or item.startswith("corpus"):
            continue
        for kind, label in (
            ("ca_whole", "whole document"),
            ("ca_line", "single lines"),
            ("ca_pick", "picked"),
        ):
            p95 = row.get(f"{kind}_p95")
            if p95 is not None and (worst is None or p95 > worst[1]):
                worst = (f"{item}, {label}", p95)
    if worst is not None:
        rows.append(
            (
                "code actions p95 ≤ 10 ms everywhere",
                f"worst {_ms(worst[1])} ms ({worst[0]})",
                "-",
                "met" if worst[1] <= 0.010 else "**missed**",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--servers", help="comma-separated subset of server names")
    p.add_argument(
        "--inputs", help="comma-separated subset of input names (e.g. dockerfile-10000,manifest-1000)"
    )
    p.add_argument("--no-corpus", action="store_true")
    p.add_argument(
        "--python", default=sys.executable, help="interpreter for debugbox and the bare pygls server"
    )
    p.add_argument("--npm-bin", type=Path, default=WORK / "node_modules" / ".bin")
    p.add_argument("--json", type=Path, default=WORK / "results.json", help="raw samples are written here")
    p.add_argument("--markdown", type=Path, help="write the results table here")
    args = p.parse_args(argv)
    specs = servers(args.python, args.npm_bin)
    if args.servers:
        wanted = set(args.servers.split(","))
        specs = [s for s in specs if s.name in wanted]
    inputs = standard_inputs()
    if args.inputs:
        wanted = set(args.inputs.split(","))
        inputs = [i for i in inputs if i.name in wanted]
    corpus = None if args.no_corpus else find_corpus()
    load_before = os.getloadavg()[0]
    samples = run_all(specs, inputs, args.runs, corpus)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after",
        "runs": args.runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "samples": samples}, indent=1))
    table = markdown(samples, meta)
    if args.markdown:
        # The live-target benchmarks (bench_session/copy/capture.py) are recorded below the language-server
        # table by hand: a new table replaces the old one and keeps them.
        old = args.markdown.read_text() if args.markdown.exists() else ""
        kept = old[old.index(LIVE_SECTION) :] if LIVE_SECTION in old else ""
        args.markdown.write_text(
            "# Benchmark results\n\nWritten by `bash benchmarks/run.sh`.\n\n" + table + kept
        )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
