"""`pod_data.READ_SCRIPT` run by this machine's `sh` against this process's own `/proc/<pid>/root` (the
machine's root), and its folder stream landed by the containers' landing code (`transfer.land_archive`): the
script's kind byte, its refusals by exit code, links kept as links, and a failed folder copy leaving nothing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from debugbox.core.targets import pod_data
from debugbox.edge.transfer import Summary, land_archive, removed_on_failure


def _run(path: Path, mode: str, bin_dir: Path) -> subprocess.CompletedProcess[bytes]:
    """The script as the debug container runs it, with `PATH` only `bin_dir` (what the toolbox has)."""
    env = {"TARGET_PID": str(os.getpid()), "PATH": str(bin_dir)}
    sh = shutil.which("sh")
    assert sh is not None
    return subprocess.run(
        [sh, "-c", pod_data.READ_SCRIPT, "debugbox-data", str(path), mode],
        env=env, capture_output=True, timeout=30, check=False,
    )  # fmt: skip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    top = tmp_path.resolve() / "-odd été"  # a leading `-` is never read as an option by tar
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "data.bin").write_bytes(bytes(range(256)) * 10 + b"\r\n\x00")
    (top / "a b.txt").write_text("text\n")
    (top / "sub" / "out").symlink_to("../../elsewhere")
    (top / "abs").symlink_to("/etc/passwd")
    return top


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH holding only the commands the script may run (`tar`, `cat`)."""
    where = tmp_path / "bin"
    where.mkdir()
    for name in ("tar", "cat"):
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed on this machine")
        (where / name).symlink_to(found)
    return where


def test_a_folder_is_a_tar_after_its_kind_byte_and_lands_as_a_containers_folder(
    tree: Path, bin_dir: Path, tmp_path: Path
) -> None:
    out = _run(tree, "folders", bin_dir)
    assert out.returncode == 0, out.stderr
    assert pod_data.COPY_OUT_KINDS[out.stdout[:1]] == "folder"
    dest = tmp_path / "dest"
    dest.mkdir()
    summary = Summary()
    land_archive(
        io.BytesIO(out.stdout[1:]),
        tree.name,
        dest,
        None,
        force=False,
        summary=summary,
        progress=lambda _: None,
    )
    assert (dest / tree.name / "sub" / "data.bin").read_bytes() == (tree / "sub" / "data.bin").read_bytes()
    assert (dest / tree.name / "a b.txt").read_text() == "text\n"
    assert (summary.files, summary.directories) == (2, 2)
    # The links travelled as links (no -h: nothing outside the folder was read) and were skipped, not created.
    assert sorted(summary.skipped or []) == [
        f"'./{tree.name}/abs': a link, not copied",
        f"'./{tree.name}/sub/out': a link, not copied",
    ]
    assert not os.path.lexists(dest / tree.name / "abs")


def test_a_file_has_its_kind_byte_only_for_a_copy_and_refusals_are_exit_codes(
    tree: Path, bin_dir: Path, tmp_path: Path
) -> None:
    data = (tree / "sub" / "data.bin").read_bytes()
    assert _run(tree / "sub" / "data.bin", "folders", bin_dir).stdout == b"f" + data
    assert _run(tree / "sub" / "data.bin", "file", bin_dir).stdout == data  # the file view: bytes only
    refused = _run(tree, "file", bin_dir)
    assert (refused.returncode, refused.stdout) == (92, b"")
    missing = _run(tree / "nope", "folders", bin_dir)
    assert (missing.returncode, missing.stdout) == (91, b"")
    linked = _run(tree / "sub" / "out", "folders", bin_dir)
    assert linked.returncode == 94 and linked.stdout == b""
    # A toolbox without tar: a refusal before any byte, which `explain` says in one sentence.
    no_tar = tmp_path / "no-tar"
    no_tar.mkdir()
    (no_tar / "cat").symlink_to(bin_dir / "cat")
    bare = _run(tree, "folders", no_tar)
    assert (bare.returncode, bare.stdout) == (89, b"")
    assert "has no tar" in pod_data.explain(bare.returncode, str(tree), bare.stderr.decode())


def test_a_failed_folder_copy_removes_only_the_folder_it_created(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "kept").write_text("x")
    for name in ("new", "mine"):
        with pytest.raises(RuntimeError), removed_on_failure(tmp_path, name):
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / "half").write_text("y")
            raise RuntimeError("the stream was cut")
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "mine" / "kept").read_text() == "x"  # a folder that was there is never removed
    with pytest.raises(RuntimeError), removed_on_failure(tmp_path, "/"):
        raise RuntimeError("the root of a target lands in the user's own folder: nothing is removed")
    assert (tmp_path / "mine").is_dir()
