"""Hostile data at the edge: names from engine and API-server answers, files that are not files, YAML nested
beyond reason.

- nerdctl through a real executable on disk printing what a hostile nerdctl would (there is no nerdctl here to
  make misbehave); Kubernetes pod answers through `checked_pod(s)`, the one place API JSON becomes PodFacts.
- `edge.files.read_bytes` on a FIFO, `/dev/zero`, a unix socket, a directory and an oversized file: refused at
  once, without blocking or reading without end.
- `core.safe_yaml` and every edge reader of YAML (compose files, manifests, kubeconfigs): 10,000 nested `[` or
  maps give a clean "not valid YAML" path, never RecursionError.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path

import pytest
import yaml
from debugbox.core import safe_yaml
from debugbox.core.errors import InvalidTarget
from debugbox.core.kubernetes.workloads import workloads_in
from debugbox.core.settings import Settings
from debugbox.edge import files
from debugbox.edge.compose import services_building
from debugbox.edge.kube_backend import checked_pod, checked_pods
from debugbox.edge.kubeconfig import KubeconfigError, parse_kubeconfigs
from debugbox.edge.nerdctl_backend import NerdctlBackend
from debugbox.edge.workspace import image_from_compose

CID = "c3" * 32

# -- names from answers --------------------------------------------------------------------------------------


def _fake_nerdctl(folder: Path, ps_rows: list[dict[str, str]], inspect: dict[str, object]) -> str:
    script = folder / "nerdctl"
    ps = "\n".join(json.dumps(r) for r in ps_rows)
    script.write_text(
        "#!/bin/sh\n"
        f"if [ \"$1\" = ps ]; then cat <<'EOF'\n{ps}\nEOF\n"
        f"else cat <<'EOF'\n{json.dumps([inspect])}\nEOF\nfi\n"
    )
    script.chmod(0o755)
    return str(script)


def test_nerdctl_answers_with_option_like_ids_or_names_are_refused(tmp_path: Path) -> None:
    rows = [
        {"ID": "--privileged", "Names": "evil", "Image": "alpine", "Status": "Up 1 minute"},
        {"ID": "d4" * 6, "Names": "-v", "Image": "alpine", "Status": "Up 1 minute"},
        {"ID": CID[:12], "Names": "web", "Image": "alpine", "Status": "Up 1 minute"},
    ]
    inspect = {"Id": "--privileged", "Name": "web", "State": {"Status": "running"}, "Config": {}}
    backend = NerdctlBackend(Settings(), cli=_fake_nerdctl(tmp_path, rows, inspect))
    assert [t.name for t in backend.list_targets()] == ["web"]
    with pytest.raises(InvalidTarget, match="--privileged"):
        backend.resolve("web")


def _pod(name: str = "web-1", namespace: str = "default", container: str = "app") -> dict[str, object]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": container, "image": "alpine"}]},
        "status": {"phase": "Running"},
    }


@pytest.mark.parametrize(
    "pod",
    [_pod(name="--privileged"), _pod(namespace="-n"), _pod(container="--target=x"), _pod(container="a b")],
)
def test_pod_answers_with_unusable_names_are_refused(pod: dict[str, object]) -> None:
    with pytest.raises(InvalidTarget, match="the API server"):
        checked_pod(pod)
    assert [p.name for p in checked_pods([pod, _pod()])] == ["web-1"]


# -- bounded file reads --------------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "deploy.yaml"
    os.mkfifo(fifo)
    with pytest.raises(files.FileRefused, match="FIFO"):
        files.read_bytes(fifo)


def test_devices_sockets_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(files.FileRefused, match="device"):
        files.read_bytes(Path("/dev/zero"))
    with pytest.raises(files.FileRefused, match="directory"):
        files.read_bytes(tmp_path)
    with tempfile.TemporaryDirectory(prefix="dbx-") as short:
        path = Path(short) / "s.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        try:
            with pytest.raises(files.FileRefused, match=r"socket|cannot read"):
                files.read_bytes(path)
        finally:
            sock.close()


def test_size_cap_and_symlinks(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a" * 2048)
    with pytest.raises(files.FileRefused, match="larger than 1024 bytes"):
        files.read_bytes(big, limit=1024)
    assert files.read_bytes(big, limit=2048) == b"a" * 2048
    link = tmp_path / "link.yaml"
    link.symlink_to(big)
    assert files.read_text(link) == "a" * 2048
    with pytest.raises(files.FileRefused, match="no such file"):
        files.read_bytes(tmp_path / "missing")


# -- deeply nested YAML --------------------------------------------------------------------------------------

DEEP = [
    "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "x: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "".join(" " * i + "k:\n" for i in range(3000)) + " " * 3000 + "v\n",
]


@pytest.mark.parametrize("text", DEEP, ids=["flow-seq", "flow-map", "block-map"])
def test_deep_yaml_is_a_yaml_error_everywhere(text: str, tmp_path: Path) -> None:
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        safe_yaml.load(text)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: a, image: b}]}\n"
    assert [w.name for w in workloads_in(pod + "---\n" + text)] == ["web"]
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        parse_kubeconfigs([("config", text)])
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n    image: app\n  " + text)
    assert image_from_compose(tmp_path / "compose.yaml", tmp_path / "Dockerfile") is None
    assert services_building(tmp_path / "Dockerfile", stop_at=tmp_path) == []


def test_reasonable_nesting_and_aliases_still_load() -> None:
    text = "a: " + "[" * 50 + "1" + "]" * 50 + "\nb: &x {c: 1}\nd: *x\n"
    data = safe_yaml.load(text)
    assert data["d"] == {"c": 1}
    with pytest.raises(yaml.YAMLError, match="aliases"):
        list(safe_yaml.load_all(text, aliases=False))
