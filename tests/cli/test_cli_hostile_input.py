"""The real `debugbox` console script on hostile input: terminal escapes in names and paths, files that are not
files, YAML nested beyond reason. Output never carries a control character from the data; bad input is one
line on stderr and exit 2, at once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli_manifest import debugbox_exe

#: An OSC 52 clipboard write, a screen clear and a bell, as YAML double-quoted escapes.
OSC52 = r"x\e]52;c;ZWNobyBwd25lZA==\a"
CLEAR = r"alpine\e[2J\e[H"
#: Bytes a terminal acts on; none may reach stdout or stderr.
CONTROL = [bytes([c]) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)]

MANIFEST = f"""apiVersion: v1
kind: Pod
metadata:
  name: "{OSC52}"
spec:
  containers:
  - name: app
    image: "{CLEAR}"
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGBOX_")}
    return subprocess.run(
        [*debugbox_exe(), *args], cwd=cwd, capture_output=True, timeout=60, env=env, check=False
    )


def assert_no_control(data: bytes) -> None:
    found = [c for c in CONTROL if c in data]
    assert not found, (found, data[:500])


@pytest.mark.parametrize("command", [["inspect"], ["check"], ["share-pid"], ["inspect", "--json"]])
def test_escapes_in_metadata_name_never_reach_the_terminal(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "pod.yaml").write_text(MANIFEST)
    result = run(command[0], "pod.yaml", *command[1:], cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    if command[0] != "share-pid":  # share-pid prints the user's own file as bytes, like cat
        assert_no_control(result.stdout)
    assert_no_control(result.stderr)
    if command == ["inspect"]:
        assert b"Pod/x\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in result.stdout


def test_escapes_in_a_file_name_never_reach_the_terminal(tmp_path: Path) -> None:
    name = "pod\x1b]52;c;ZQ==\x07.yaml"
    (tmp_path / name).write_text(MANIFEST.replace(OSC52, "web"))
    for args in (["check", name], ["inspect", name + ".missing"], ["check", name, "--json"]):
        result = run(*args, cwd=tmp_path)
        assert_no_control(result.stdout)
        assert_no_control(result.stderr)
    assert b"pod\\x1b]52;c;ZQ==\\x07.yaml" in run("inspect", name + ".missing", cwd=tmp_path).stderr


@pytest.mark.parametrize("command", ["check", "inspect", "share-pid"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_dev_zero_as_manifest_is_one_line_at_once(tmp_path: Path, command: str, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pod.yaml")
        path, expected = "pod.yaml", b"FIFO"
    else:
        path, expected = "/dev/zero", b"device"
    result = run(command, path, cwd=tmp_path)  # the subprocess timeout fails the test on a hang
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and expected.decode() in lines[0] and "Traceback" not in lines[0], lines


@pytest.mark.parametrize(
    "nested", ["[" * 10_000 + "]" * 10_000, "{a: " * 10_000 + "1" + "}" * 10_000], ids=["seq", "map"]
)
def test_deeply_nested_manifest_is_a_finding_not_a_traceback(tmp_path: Path, nested: str) -> None:
    (tmp_path / "pod.yaml").write_text(f"apiVersion: v1\nkind: Pod\nspec:\n  x: {nested}\n")
    result = run("check", "pod.yaml", cwd=tmp_path)
    assert result.returncode == 0 and b"not valid YAML" in result.stdout and not result.stderr


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("Dockerfile", lambda p: p.mkdir(), "is a directory"),
        ("Dockerfile", lambda p: None, "no such file"),
        ("Dockerfile", lambda p: p.write_bytes(b"FROM alpine\nRUN echo caf\xe9\n"), "not UTF-8"),
        ("notes.txt", lambda p: p.write_text("some notes\n"), "not a Dockerfile, compose file or Kubernetes"),
    ],
    ids=["folder", "missing", "latin-1", "other"],
)
def test_targets_for_a_file_it_cannot_use_is_bad_input(
    tmp_path: Path, name: str, make: Callable[[Path], object], said: str
) -> None:
    # `targets --for` ignored such a file silently and listed every target as unrelated (exit 0).
    make(tmp_path / name)
    result = run("targets", "--no-probe", "--for", name, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and said in lines[0] and not result.stdout, lines
