"""The pod code lenses against a fake cluster: how many requests they send, and how soon the lens shows.

Two scenarios, each with a fresh `debugbox lsp` over stdio (the benchmark's own `lsp_client.py`) and a fresh
fake API server (`tests/fakes/kube`, HTTPS, an administrator's token; it records every request):

- **flood** (#10 §6): one open manifest of 300 Deployments, each in its own namespace (ns-0 … ns-299), each with
  one running pod. The client asks for code lenses once a second, as an editor re-asks after each refresh,
  for `--seconds` (default 60); reported: requests to the cluster in that time, per minute, split into pod
  LISTs, access reviews and others, and how many namespaces were ever listed.
- **time to lens** (#13 proof): a cluster of 5,000 pods in 50 namespaces (100 each, 10 Deployments of 10 pods
  per namespace); one manifest of those 500 Deployments. Reported: `didOpen` → the first codeLens answer with a
  "Debug pod" lens on a container (the client re-asks every 50 ms), and the requests of the first refresh.

`--server PATH` runs another checkout's `server/` folder (e.g. main before the change, exported with
`git archive`), so before/after come from the same script in the same run:

    .venv/bin/python benchmarks/bench_lens_requests.py [--seconds 60] [--server OTHER/server] [--label before]

Asserts nothing; prints a Markdown table row per scenario.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsp_client import LspClient  # noqa: E402

from tests.fakes.kube import FakeKubeAPIServer  # noqa: E402

APP = {"name": "app", "image": "gcr.io/distroless/static"}


def deployment(name: str, namespace: str) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: {name}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n"
        f"    spec:\n      containers:\n        - name: app\n          image: gcr.io/distroless/static\n"
    )


def start_server(server_dir: Path, kubeconfig: Path, work: Path) -> LspClient:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "PYTHONPATH": str(server_dir),
        "HOME": str(work),
        "DOCKER_HOST": f"unix://{work}/no-docker.sock",
    }
    client = LspClient([sys.executable, "-m", "debugbox", "lsp"], cwd=work, env=env)
    options = {"settings": {"toolboxImage": "busybox:1.36", "kubernetes": {"timeoutSeconds": 5}}}
    client.initialize(work, initialization_options=options)
    return client


def open_manifest(client: LspClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    path.write_text(text)
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )
    return uri


def pod_lenses(client: LspClient, uri: str) -> list[Any]:
    lenses = client.request("textDocument/codeLens", {"textDocument": {"uri": uri}}, timeout=30) or []
    return [x for x in lenses if str((x.get("command") or {}).get("title", "")).startswith("Debug pod")]


def debug_pod(lens: Any) -> bool:
    """A lens that opens a session ("Debug pod…"), not one saying the namespace was not polled."""
    return str(lens["command"]["title"]).startswith("Debug pod…")


def kinds(fake: FakeKubeAPIServer) -> Counter[str]:
    out: Counter[str] = Counter()
    for r in fake.requests:
        if r.method == "GET" and r.path.endswith("/pods"):
            out["pod LISTs"] += 1
        elif r.path.endswith("accessreviews") or r.path.endswith("selfsubjectreviews"):
            out["access reviews"] += 1
        else:
            out["other"] += 1
    return out


def flood(server_dir: Path, seconds: float, work: Path) -> dict[str, Any]:
    fake = FakeKubeAPIServer().start()
    try:
        kubeconfig = fake.write_kubeconfig(work / "kubeconfig")
        for i in range(300):
            fake.store.add_pod(f"w{i}-pod", f"ns-{i}", [APP], labels={"app": f"w{i}"})
        text = "---\n".join(deployment(f"w{i}", f"ns-{i}") for i in range(300))
        client = start_server(server_dir, kubeconfig, work)
        try:
            uri = open_manifest(client, work / "flood.yaml", text)
            fake.clear_requests()
            start = time.monotonic()
            while time.monotonic() - start < seconds:
                pod_lenses(client, uri)
                time.sleep(1.0)
            elapsed = time.monotonic() - start
            counted = kinds(fake)
            namespaces = {r.path.split("/")[4] for r in fake.requests if r.path.endswith("/pods")}
        finally:
            client.shutdown()
    finally:
        fake.stop()
    total = sum(counted.values())
    return {
        "seconds": elapsed,
        "total": total,
        "per_minute": total * 60 / elapsed,
        "kinds": dict(counted),
        "namespaces": len(namespaces),
    }


def time_to_lens(server_dir: Path, work: Path) -> dict[str, Any]:
    fake = FakeKubeAPIServer().start()
    try:
        kubeconfig = fake.write_kubeconfig(work / "kubeconfig")
        docs = []
        for n in range(50):
            for d in range(10):
                name = f"d{n}-{d}"
                docs.append(deployment(name, f"team-{n}"))
                for p in range(10):
                    fake.store.add_pod(f"{name}-{p}", f"team-{n}", [APP], labels={"app": name})
        client = start_server(server_dir, kubeconfig, work)
        try:
            fake.clear_requests()
            start = time.monotonic()
            uri = open_manifest(client, work / "big.yaml", "---\n".join(docs))
            lenses: list[Any] = []
            while not any(debug_pod(x) for x in lenses) and time.monotonic() - start < 120:
                lenses = pod_lenses(client, uri)
                if not any(debug_pod(x) for x in lenses):
                    time.sleep(0.05)
            took = time.monotonic() - start
            counted = kinds(fake)
        finally:
            client.shutdown()
    finally:
        fake.stop()
    return {
        "seconds": took,
        "lenses": sum(map(debug_pod, lenses)),
        "kinds": dict(counted),
        "total": sum(counted.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--server", type=Path, default=ROOT / "server", help="a checkout's server/ folder")
    parser.add_argument("--label", default="this checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbx-lens-bench-") as tmp:
        work = Path(tmp)
        f = flood(args.server.resolve(), args.seconds, work)
        t = time_to_lens(args.server.resolve(), work)
    print(
        "| code | scenario | requests | per minute | pod LISTs | access reviews | other | namespaces listed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    k = f["kinds"]
    print(
        f"| {args.label} | flood: 300 namespaces, {f['seconds']:.0f} s | {f['total']} | {f['per_minute']:.0f} | "
        f"{k.get('pod LISTs', 0)} | {k.get('access reviews', 0)} | {k.get('other', 0)} | {f['namespaces']} |"
    )
    k = t["kinds"]
    print(
        f"| {args.label} | time to lens: 5,000 pods / 50 namespaces: {t['seconds']:.2f} s, "
        f"{t['lenses']} of 500 workloads with a Debug pod lens | "
        f"{t['total']} | - | {k.get('pod LISTs', 0)} | {k.get('access reviews', 0)} | {k.get('other', 0)} | - |"
    )


if __name__ == "__main__":
    main()
