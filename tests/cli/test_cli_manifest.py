"""The real `debugbox` console script on Kubernetes manifests: `inspect --json` and `share-pid`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT


def debugbox_exe() -> list[str]:
    exe = shutil.which("debugbox", path=str(ROOT / ".venv" / "bin")) or shutil.which("debugbox")
    return [exe] if exe else [sys.executable, "-m", "debugbox"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGBOX_")}
    return subprocess.run(
        [*debugbox_exe(), *args], cwd=cwd, capture_output=True, timeout=60, env=env, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("distroless-deployment.yaml", "cronjob.yaml", "hostpid-pod.yaml"):
        shutil.copy(EXAMPLES / "k8s" / name, tmp_path / name)
    return tmp_path


def test_inspect_json_schema(project: Path) -> None:
    result = run("inspect", "cronjob.yaml", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "kind": "kubernetes",
        "documents": 1,
        "errors": [],
        "pod_specs": [
            {
                "document": 0,
                "kind": "CronJob",
                "name": "report",
                "namespace": None,
                "path": "spec.jobTemplate.spec.template.spec",
                "line": 11,
                "share_process_namespace": None,
                "host_pid": None,
                "containers": [
                    {"name": "fetch", "image": "busybox:1.36", "line": 14, "init": True},
                    {
                        "name": "report",
                        "image": "gcr.io/distroless/python3-debian12",
                        "line": 21,
                        "init": False,
                    },
                ],
            }
        ],
    }


def test_inspect_reports_syntax_errors_by_line(project: Path) -> None:
    (project / "broken.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n", encoding="utf-8"
    )
    result = run("inspect", "broken.yaml", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["pod_specs"] == [] and data["errors"][0]["line"] == 5


def test_share_pid_prints_the_file_with_one_line_added(project: Path) -> None:
    original = (project / "distroless-deployment.yaml").read_bytes()
    result = run("share-pid", "distroless-deployment.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    expected = original.replace(
        b"      serviceAccountName: api\n",
        b"      serviceAccountName: api\n      shareProcessNamespace: true\n",
    )
    assert result.stdout == expected
    assert (project / "distroless-deployment.yaml").read_bytes() == original  # not written without --write


def test_share_pid_write_keeps_crlf_and_missing_final_newline(project: Path) -> None:
    path = project / "crlf.yaml"
    text = b"apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  restartPolicy: Never\r\n"
    text += b"  containers:\r\n  - {name: a, image: b}"
    path.write_bytes(text)
    path.chmod(0o640)
    result = run("share-pid", "crlf.yaml", "--write", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert path.read_bytes() == text.replace(b"Never\r\n", b"Never\r\n  shareProcessNamespace: true\r\n")
    assert path.stat().st_mode & 0o777 == 0o640
    assert b"shareProcessNamespace: true in document 0: Pod (spec)" in result.stderr
    again = run("share-pid", "crlf.yaml", cwd=project)
    assert again.returncode == 1 and b"already true" in again.stderr


def test_share_pid_document_selects_one_document(project: Path) -> None:
    doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n"
    doc += "  containers:\n  - {{name: a, image: b}}\n"
    (project / "multi.yaml").write_text("---\n".join(doc.format(n=n) for n in range(3)), encoding="utf-8")
    result = run("share-pid", "multi.yaml", "--document", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert ["shareProcessNamespace" in d["spec"] for d in docs] == [False, False, True]
    out_of_range = run("share-pid", "multi.yaml", "--document", "3", cwd=project)
    assert out_of_range.returncode == 2 and b"out of range" in out_of_range.stderr


def test_share_pid_refuses_host_pid(project: Path) -> None:
    result = run("share-pid", "hostpid-pod.yaml", "--write", cwd=project)
    assert result.returncode == 1
    assert b"hostPID" in result.stderr and b"Traceback" not in result.stderr
    assert (project / "hostpid-pod.yaml").read_bytes() == (EXAMPLES / "k8s" / "hostpid-pod.yaml").read_bytes()


def test_share_pid_without_pod_specs_is_exit_1(project: Path) -> None:
    (project / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", encoding="utf-8"
    )
    result = run("share-pid", "svc.yaml", cwd=project)
    assert result.returncode == 1 and b"no pod spec" in result.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.yaml", None),
        ("notes.yaml", b"just: yaml\n"),
        ("binary.yaml", b"apiVersion: v1\x00\x01\x02kind: Pod"),
        ("empty.yaml", b""),
    ],
)
def test_share_pid_bad_input_is_exit_2(project: Path, name: str, content: bytes | None) -> None:
    if content is not None:
        (project / name).write_bytes(content)
    result = run("share-pid", name, cwd=project)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(b"debugbox: ") and b"Traceback" not in result.stderr


def test_share_pid_merge_key_shared_by_two_pods_writes_a_loadable_file(project: Path) -> None:
    path = project / "merged.yaml"
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: one}\n  spec:\n"
        "    <<: &defaults {shareProcessNamespace: false, containers: [{name: a, image: nginx}]}\n"
        "    restartPolicy: Always\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: two}\n  spec:\n"
        "    <<: *defaults\n    restartPolicy: Always\n"
    )
    path.write_text(text, encoding="utf-8")
    result = run("share-pid", "merged.yaml", "--write", cwd=project)
    assert result.returncode == 0, result.stderr
    new = path.read_text(encoding="utf-8")
    assert "truetrue" not in new
    items = yaml.safe_load(new)["items"]
    assert [item["spec"]["shareProcessNamespace"] for item in items] == [True, True]


@pytest.mark.parametrize(
    "value",
    ["\n  - a\n  - b", " |\n    false", "\n    x: 1"],
)
def test_share_pid_refuses_a_value_it_cannot_edit_exit_1_and_file_unchanged(
    project: Path, value: str
) -> None:
    path = project / "odd.yaml"
    text = f"apiVersion: v1\nkind: Pod\nspec:\n  shareProcessNamespace:{value}\n  containers: []\n"
    path.write_text(text, encoding="utf-8")
    result = run("share-pid", "odd.yaml", "--write", cwd=project)
    assert result.returncode == 1, result.stdout
    assert b"refused" in result.stderr and b"set it by hand" in result.stderr
    assert path.read_text(encoding="utf-8") == text
