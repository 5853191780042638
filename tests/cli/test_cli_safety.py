"""The real CLI on hostile ground: writes go only where the user pointed (`debug-image -o/--force`,
`share-pid --write`, all through `edge/writes.py`), and `python -m debugbox` run inside a repository never
imports that repository's modules.

The CLI's rule for links: the boundary is the folder of the file the user named. A link whose target stays in
that folder is written through (it stays a link); a link that leaves it, or a dangling one, is refused with a
message naming the link (exit 1) and nothing changes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli.test_cli_dockerfile import run
from tests.conftest import EXAMPLES, require
from tests.unit.dockerfile.test_dockerfile_analysis import DISTROLESS

MINE = "# someone else's file\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    (work / "Dockerfile").write_text(DISTROLESS, encoding="utf-8")
    shutil.copy(EXAMPLES / "k8s" / "distroless-deployment.yaml", work / "deploy.yaml")
    return work


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_debug_image_force_keeps_the_mode(project: Path) -> None:
    target = project / "Dockerfile.debug"
    target.write_text("# old\n", encoding="utf-8")
    target.chmod(0o644)

    forced = run("debug-image", "Dockerfile", "--force", cwd=project)

    assert forced.returncode == 0, forced.stderr
    assert "ARG APP_IMAGE=" in target.read_text(encoding="utf-8")
    assert _mode(target) == 0o644


@pytest.mark.parametrize("force", [False, True])
def test_debug_image_refuses_a_link_leaving_the_folder(project: Path, outside: Path, force: bool) -> None:
    victim = outside / "victim"
    victim.write_text(MINE, encoding="utf-8")
    link = project / "Dockerfile.debug"
    link.symlink_to(victim)

    result = run("debug-image", "Dockerfile", *(["--force"] if force else []), cwd=project)

    assert result.returncode == 1
    if force:  # without --force the existing file is refused first, as before
        assert str(link) in result.stderr and "symbolic link" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert link.is_symlink() and victim.read_text(encoding="utf-8") == MINE


def test_debug_image_does_not_create_through_a_dangling_link(project: Path, outside: Path) -> None:
    link = project / "out.debug"
    link.symlink_to(outside / "new-file")

    result = run("debug-image", "Dockerfile", "-o", "out.debug", "--force", cwd=project)

    assert result.returncode == 1
    assert "out.debug" in result.stderr and "does not exist" in result.stderr
    assert not (outside / "new-file").exists() and link.is_symlink()


def test_debug_image_refuses_a_hard_linked_file(project: Path, outside: Path) -> None:
    other = outside / "other-name"
    other.write_text(MINE, encoding="utf-8")
    os.link(other, project / "Dockerfile.debug")

    result = run("debug-image", "Dockerfile", "--force", cwd=project)

    assert result.returncode == 1 and "hard links" in result.stderr
    assert other.read_text(encoding="utf-8") == MINE


def test_share_pid_write_keeps_a_link_a_link(project: Path) -> None:
    (project / "deploy.yaml").rename(project / "deploy.v2.yaml")
    link = project / "deploy.yaml"
    link.symlink_to("deploy.v2.yaml")
    (project / "deploy.v2.yaml").chmod(0o640)

    result = run("share-pid", "deploy.yaml", "--write", cwd=project)

    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "deploy.v2.yaml"
    docs = list(yaml.safe_load_all((project / "deploy.v2.yaml").read_text(encoding="utf-8")))
    assert docs[0]["spec"]["template"]["spec"]["shareProcessNamespace"] is True
    assert _mode(project / "deploy.v2.yaml") == 0o640


def test_share_pid_write_refuses_a_link_leaving_the_folder(project: Path, outside: Path) -> None:
    victim = outside / "shared.yaml"
    shutil.move(project / "deploy.yaml", victim)
    before = victim.read_bytes()
    link = project / "deploy.yaml"
    link.symlink_to(victim)

    result = run("share-pid", "deploy.yaml", "--write", cwd=project)

    assert result.returncode == 1
    assert str(link) in result.stderr and "outside" in result.stderr
    assert link.is_symlink() and victim.read_bytes() == before


POISONED = ("shlex", "yaml", "json", "attr", "typing_extensions")


def test_python_m_debugbox_in_a_repository_imports_none_of_its_modules(project: Path, tmp_path: Path) -> None:
    """`python -m debugbox` puts the current folder first on sys.path; the entry point drops it before importing
    anything else (a `debugbox.py` there would still win: that is why editors launch with -P)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    for name in POISONED:
        (project / f"{name}.py").write_text(
            f"open({str(markers / name)!r}, 'w').close()\nraise ImportError('poisoned')\n", encoding="utf-8"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUGBOX_", "PYTHON"))}

    for args in (["check", "Dockerfile"], ["inspect", "deploy.yaml", "--json"], ["share-pid", "deploy.yaml"]):
        result = subprocess.run(
            [sys.executable, "-m", "debugbox", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode in (0, 1), result.stderr
        assert sorted(p.name for p in markers.iterdir()) == [], (args, result.stderr)


@pytest.mark.parametrize("mode", [0o640, 0o2775, 0o600])
def test_replacing_a_file_keeps_its_owner_group_and_mode(project: Path, mode: int) -> None:
    """`compose-sidecar --write` (like every replacement through edge/writes.py) leaves the file as it found it:
    the same owner, group and permission bits (setgid included), not the writer's 0600 temporary file."""
    require(
        os.geteuid() == 0, "giving a file to another owner needs root (as on the project's machines and CI)"
    )
    target = project / "compose.yaml"
    target.write_text("services:\n  api:\n    image: busybox\n", encoding="utf-8")
    os.chown(target, 4321, 4322)
    target.chmod(mode)

    result = run("compose-sidecar", "compose.yaml", "api", "--write", cwd=project)

    assert result.returncode == 0, result.stderr
    assert "debug-api:" in target.read_text(encoding="utf-8")
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4322, mode)
    assert [
        p.name for p in project.iterdir() if p.name.startswith(".compose.yaml.")
    ] == []  # no temporary left
