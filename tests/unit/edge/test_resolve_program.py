"""`cli_tools.resolve_program`: the one place a program name becomes the absolute path that runs — only PATH's
absolute folders, never a workspace folder, never a relative path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.cli_tools import resolve_program, run_cli


def _program(folder: Path, name: str = "docker") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text("#!/bin/sh\necho " + str(folder) + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_relative_path_entries_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _program(repo)  # ./docker in the current folder
    real = _program(tmp_path / "usr" / "bin")
    monkeypatch.chdir(repo)
    path = os.pathsep.join(["", ".", "bin", str(real.parent)])

    assert resolve_program(["docker", "ps"], path=path) == (str(real), "ps")


def test_workspace_folders_are_never_searched(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _program(ws / "tools")
    real = _program(tmp_path / "usr" / "bin")
    path = os.pathsep.join([str(ws / "tools"), str(real.parent)])

    assert resolve_program(["docker"], exclude=[ws], path=path)[0] == str(real)
    with pytest.raises(RuntimeUnavailable, match="not installed"):
        resolve_program(["docker"], exclude=[ws], path=str(ws / "tools"))
    with pytest.raises(RuntimeUnavailable, match="inside the workspace"):
        resolve_program([str(ws / "tools" / "docker")], exclude=[ws], path="")


def test_a_relative_program_path_is_refused_and_absolute_ones_are_kept(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="relative path"):
        resolve_program(["./docker", "ps"], path="/usr/bin")
    assert resolve_program(["/opt/x/kubectl", "get"], path="") == ("/opt/x/kubectl", "get")


def test_run_cli_does_not_run_a_program_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    _program(repo, "nerdctl")
    real = _program(tmp_path / "usr" / "bin", "nerdctl")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", os.pathsep.join([".", str(real.parent), os.environ.get("PATH", "")]))

    assert run_cli(["nerdctl"], 5.0, "nerdctl ps").strip() == str(real.parent)


def test_helpers_and_installed_checks_never_pick_the_current_folders_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture and forwarding helpers, and every "is it installed" question (`find_program`), use the same
    walk: with `.` first on PATH (as `shutil.which` would honour) the repository's `docker` is never chosen."""
    from debugbox.edge.capture import Capture
    from debugbox.edge.cli_tools import find_program
    from debugbox.edge.forwarder import Forward

    repo = tmp_path / "repo"
    _program(repo)
    _program(repo, "wireshark")
    real = _program(tmp_path / "usr" / "bin")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", os.pathsep.join([".", "", str(real.parent)]))

    assert find_program("docker") == str(real)
    assert find_program("wireshark") is None
    capture = Capture(("docker",), "a1" * 32, "toolbox:test", repo / "out.pcap")
    assert capture.cli[0] == str(real) and capture.argv[0] == str(real)
    assert Forward(("docker",), "a1" * 32, 8080, "toolbox:test").cli[0] == str(real)
    monkeypatch.setenv("PATH", ".")
    with pytest.raises(RuntimeUnavailable, match=r"not installed.*capture helper"):
        Capture(("docker",), "a1" * 32, "toolbox:test", repo / "out.pcap")


def test_the_kubectl_version_probe_never_runs_the_current_folders_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning a pod session whose target has its own UID asks `kubectl version --client` whether `--custom`
    works (`kube_session.kubectl_version`). That probe ran the bare name with `subprocess.run`, which searches
    `.` and empty PATH entries: a repository's `./kubectl` ran whenever the server or the CLI planned there."""
    from debugbox.edge.kube_session import kubectl_version

    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "ran"
    fake = repo / "kubectl"
    fake.write_text(
        f'#!/bin/sh\ntouch {marker}\necho \'{{"clientVersion": {{"major": "1", "minor": "99"}}}}\'\n'
    )
    fake.chmod(0o755)
    real = tmp_path / "usr" / "bin" / "kubectl"
    real.parent.mkdir(parents=True)
    real.write_text('#!/bin/sh\necho \'{"clientVersion": {"major": "1", "minor": "30"}}\'\n')
    real.chmod(0o755)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", os.pathsep.join([".", "", str(real.parent)]))
    kubectl_version.cache_clear()
    try:
        assert kubectl_version("kubectl") == (1, 30)
        assert not marker.exists(), "the repository's ./kubectl ran"
        monkeypatch.setenv("PATH", ".")
        kubectl_version.cache_clear()
        assert kubectl_version("kubectl") is None  # only the current folder's: not run, no version
        assert not marker.exists()
    finally:
        kubectl_version.cache_clear()
