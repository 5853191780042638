"""Deterministic benchmark inputs: Dockerfiles of a given line count, Kubernetes manifests of N documents and
compose files of N services.

The same arguments always give byte-identical text (a seeded `random.Random`, no clock, no environment), so
runs on different days and machines compare. The files look like what people write: multi-stage Dockerfiles
with global ARGs, continuation lines, exec- and shell-form commands and a distroless final stage; manifest
streams mixing Deployments, Pods, StatefulSets, CronJobs, Jobs, DaemonSets, Services and ConfigMaps, some with
distroless images, `shareProcessNamespace`, comments, anchors and block scalars.

`python benchmarks/generate.py OUT_DIR` writes the standard set (50/1,000/10,000-line Dockerfiles,
1/100/1,000- document manifests) into OUT_DIR.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

DOCKERFILE_SIZES = (50, 1_000, 10_000)
MANIFEST_SIZES = (1, 100, 1_000)

_BUILDERS = (
    "golang:1.22-bookworm",
    "node:20-bookworm",
    "python:3.12-slim",
    "rust:1.79",
    "maven:3.9-eclipse-temurin-21",
)
_RUNTIMES = (
    "alpine:3.20",
    "debian:bookworm-slim",
    "ubuntu:24.04",
    "registry.access.redhat.com/ubi9/ubi-minimal",
)
_FINAL = "gcr.io/distroless/static-debian12:nonroot"
_PACKAGES = ("curl", "ca-certificates", "git", "make", "gcc", "libc6-dev", "tzdata", "openssl", "jq", "unzip")


def _stage(rng: random.Random, index: int) -> list[str]:
    """One build stage of roughly 20-40 lines."""
    lines = [f"FROM {rng.choice(_BUILDERS)} AS build{index}", "WORKDIR /src"]
    lines.append(f"ARG COMPONENT{index}=component-{index}")
    lines.append(f"ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly COMPONENT=${{COMPONENT{index}}}")
    pkgs = rng.sample(_PACKAGES, 4)
    lines.append("RUN apt-get update \\")
    for pkg in pkgs:
        lines.append(f"    && apt-get install -y --no-install-recommends {pkg} \\")
    lines.append("    && rm -rf /var/lib/apt/lists/*")
    for step in range(rng.randint(3, 8)):
        lines.append(f"COPY src/{index}/part{step} ./part{step}")
        if rng.random() < 0.5:
            lines.append(f'RUN ["make", "-C", "part{step}", "build"]')
        else:
            lines.append(f"RUN make -C part{step} build && echo built part{step}")
    lines.append(f'LABEL org.opencontainers.image.description="stage {index}"')
    lines.append("")
    return lines


def _runtime_stage(rng: random.Random, index: int) -> list[str]:
    image = rng.choice(_RUNTIMES)
    lines = [f"FROM {image} AS runtime{index}"]
    if image.startswith("alpine"):
        lines.append("RUN apk add --no-cache curl ca-certificates")
    elif "ubi" in image:
        lines.append("RUN microdnf install -y curl && microdnf clean all")
    else:
        lines.append(
            "RUN apt-get update && apt-get install -y --no-install-recommends curl"
            " && rm -rf /var/lib/apt/lists/*"
        )
    lines.append(f"COPY --from=build{index} /src/out /app")
    lines.append("USER 65532:65532")
    lines.append("")
    return lines


def dockerfile(n_lines: int, seed: int = 7) -> str:
    """A multi-stage Dockerfile of exactly `n_lines` lines (plus a final newline)."""
    rng = random.Random(seed * 1_000_003 + n_lines)
    head = ["# syntax=docker/dockerfile:1", "ARG GO_VERSION=1.22", "ARG BASE=debian:bookworm-slim", ""]
    final = [
        f"FROM {_FINAL}",
        "COPY --from=build0 /src/out/app /app",
        "USER nonroot",
        "EXPOSE 8080",
        'HEALTHCHECK CMD ["/app", "health"]',
        'ENTRYPOINT ["/app"]',
    ]
    body: list[str] = []
    index = 0
    budget = n_lines - len(head) - len(final)
    while True:
        stage = _stage(rng, index) if index % 4 != 3 else _runtime_stage(rng, index)
        if len(body) + len(stage) > budget:
            break
        body.extend(stage)
        index += 1
    while len(body) < budget:
        body.append(f'LABEL pad.{len(body)}="{len(body)}"' if len(body) % 4 else f"# padding {len(body)}")
    return "\n".join(head + body + final) + "\n"


def _container(rng: random.Random, name: str, indent: str) -> list[str]:
    image = rng.choice(
        (
            "nginx:1.27",
            "gcr.io/distroless/static-debian12:nonroot",
            "python:3.12-slim",
            "cgr.dev/chainguard/static:latest",
            "alpine:3.20",
            "registry.k8s.io/pause:3.9",
        )
    )
    lines = [
        f"{indent}- name: {name}",
        f"{indent}  image: {image}",
        f"{indent}  imagePullPolicy: IfNotPresent",
        f"{indent}  ports:",
        f"{indent}    - containerPort: {rng.randint(1024, 9000)}",
        f"{indent}      protocol: TCP",
        f"{indent}  env:",
    ]
    for k in range(rng.randint(1, 4)):
        lines.append(f"{indent}    - name: VAR_{k}")
        lines.append(f'{indent}      value: "{rng.randint(0, 10_000)}"')
    lines += [
        f"{indent}  resources:",
        f"{indent}    requests: {{cpu: 100m, memory: 64Mi}}",
        f"{indent}    limits:",
        f"{indent}      memory: 256Mi",
        f"{indent}  readinessProbe:",
        f"{indent}    httpGet: {{path: /healthz, port: 8080}}",
        f"{indent}    periodSeconds: 10",
        f"{indent}  livenessProbe:",
        f"{indent}    tcpSocket:",
        f"{indent}      port: 8080",
        f"{indent}    initialDelaySeconds: 5",
        f"{indent}  securityContext:",
        f"{indent}    runAsNonRoot: true",
        f"{indent}    allowPrivilegeEscalation: false",
        f"{indent}    readOnlyRootFilesystem: true",
        f"{indent}  volumeMounts:",
        f"{indent}    - name: config",
        f"{indent}      mountPath: /etc/{name}",
        f"{indent}      readOnly: true",
    ]
    return lines


def _pod_spec(rng: random.Random, name: str, indent: str) -> list[str]:
    lines: list[str] = []
    if rng.random() < 0.2:
        lines.append(f"{indent}shareProcessNamespace: {rng.choice(('true', 'false'))}")
    lines.append(f"{indent}# containers of {name}")
    lines.append(f"{indent}containers:")
    for c in range(rng.randint(1, 3)):
        lines += _container(rng, f"{name}-c{c}", indent + "  ")
    if rng.random() < 0.3:
        lines.append(f"{indent}initContainers:")
        lines += _container(rng, f"{name}-init", indent + "  ")
    return lines


def _metadata(name: str, labels: bool = True) -> list[str]:
    lines = [
        "metadata:",
        f"  name: {name}",
        "  namespace: bench",
        "  annotations:",
        '    owner: "team-bench"',
    ]
    if labels:
        lines += ["  labels:", f"    app: {name}", "    tier: backend"]
    return lines


def _document(rng: random.Random, i: int) -> list[str]:
    kind = ("Deployment", "Service", "Pod", "StatefulSet", "ConfigMap", "CronJob", "Job", "DaemonSet")[i % 8]
    name = f"app-{i}"
    if kind == "Service":
        return [
            "apiVersion: v1",
            "kind: Service",
            *_metadata(name),
            "spec:",
            "  selector:",
            f"    app: {name}",
            "  ports:",
            "    - port: 80",
            "      targetPort: 8080",
        ]
    if kind == "ConfigMap":
        return [
            "apiVersion: v1",
            "kind: ConfigMap",
            *_metadata(name),
            "data:",
            "  config.yaml: |",
            "    # looks like a manifest but is a block scalar",
            "    apiVersion: v1",
            "    kind: Pod",
            "    spec:",
            "      containers: []",
            f'  level: "{rng.choice(("debug", "info"))}"',
        ]
    if kind == "Pod":
        return ["apiVersion: v1", "kind: Pod", *_metadata(name), "spec:", *_pod_spec(rng, name, "  ")]
    if kind == "CronJob":
        return [
            "apiVersion: batch/v1",
            "kind: CronJob",
            *_metadata(name),
            "spec:",
            '  schedule: "*/5 * * * *"',
            "  jobTemplate:",
            "    spec:",
            "      template:",
            "        spec:",
            "          restartPolicy: OnFailure",
            *_pod_spec(rng, name, "          "),
        ]
    api = "batch/v1" if kind == "Job" else "apps/v1"
    lines = [f"apiVersion: {api}", f"kind: {kind}", *_metadata(name), "spec:"]
    if kind in ("Deployment", "StatefulSet"):
        lines.append(f"  replicas: {rng.randint(1, 5)}")
    if kind != "Job":
        lines += ["  selector:", "    matchLabels: &labels", f"      app: {name}"]
    lines += ["  template:", "    metadata:"]
    lines += ["      labels: *labels"] if kind != "Job" else ["      labels:", f"        app: {name}"]
    lines += ["    spec:", *_pod_spec(rng, name, "      ")]
    return lines


def manifest(n_docs: int, seed: int = 11) -> str:
    """A multi-document manifest stream of `n_docs` documents separated by `---`."""
    rng = random.Random(seed * 1_000_003 + n_docs)
    docs = ["\n".join(_document(rng, i)) for i in range(n_docs)]
    return "---\n" + "\n---\n".join(docs) + "\n"


def compose(n_services: int, chain: int = 5) -> str:
    """A compose file of `n_services` services in chains of `chain`: the first of each runs an image, each other
    one `extends:` the one before it and shares its PID namespace (`pid: service:…`), as a project with one base
    service per team and variants of it looks, only bigger. Every name is looked up once per service and chain
    level: the load that made name lookups by scanning the services quadratic."""
    lines = ["services:"]
    for i in range(n_services):
        lines.append(f"  s{i}:")
        if i % chain == 0:
            lines += [
                "    image: busybox:1.36",
                "    command: [sleep, infinity]",
                f"    profiles: [team{i // chain % 7}]",
            ]
        else:
            lines += [f"    extends: s{i - 1}", f"    pid: service:s{i - 1}"]
    return "\n".join(lines) + "\n"


_INSTRUCTION = re.compile(r"^(FROM|RUN|COPY|ENV|ARG|LABEL|WORKDIR|USER|EXPOSE)\b", re.IGNORECASE)
_LABELS = re.compile(r"^(\s*)labels:\s*$")


def change_point(kind: str, text: str) -> tuple[int, str]:
    """Where the benchmark inserts one line mid-file, and the line: a new instruction or a new label.

    For a Dockerfile it is an `ENV` line before the instruction nearest the middle (never inside a
    continuation); for a manifest a label in the `labels:` mapping nearest the middle, at its indentation.
    """
    lines = text.split("\n")
    middle = len(lines) // 2
    order = sorted(range(len(lines)), key=lambda i: (abs(i - middle), i))
    if kind == "dockerfile":
        for i in order:
            if i > 0 and _INSTRUCTION.match(lines[i]) and not lines[i - 1].rstrip().endswith("\\"):
                return i, "ENV BENCH_CHANGED=1"
        return len(lines) - 1, "ENV BENCH_CHANGED=1"
    for i in order:
        m = _LABELS.match(lines[i])
        if m:
            return i + 1, f'{m.group(1)}  bench-changed: "1"'
    return len(lines) - 1, "# bench changed"


def write_standard_set(out: Path) -> dict[str, Path]:
    """Write every standard input into `out`; returns name → path (names like `dockerfile-1000`)."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for n in DOCKERFILE_SIZES:
        path = out / f"lines{n}" / "Dockerfile"
        path.parent.mkdir(exist_ok=True)
        path.write_text(dockerfile(n))
        written[f"dockerfile-{n}"] = path
    for n in MANIFEST_SIZES:
        path = out / f"manifest-{n}.yaml"
        path.write_text(manifest(n))
        written[f"manifest-{n}"] = path
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / ".work" / "inputs"
    for name, path in write_standard_set(target).items():
        text = path.read_text()
        print(f"{name}: {path} ({text.count(chr(10))} lines, {len(text)} bytes)")
