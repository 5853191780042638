"""A folder upload into a pod without the pod: the archive debugbox builds (`kube_transfer.send_folder`) fed to
`pod_data.UPLOAD_FOLDER_SCRIPT` run by this machine's `sh` and GNU `tar` against this process's own
`/proc/<pid>/root` (the machine's root), and the argv/path rules of `pod_data`. The busybox side runs in the
integration tests (`tests/integration/kubernetes/test_kube_data.py`)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from debugbox.core.errors import InvalidTarget
from debugbox.core.targets import pod_data
from debugbox.core.targets.pod_facts import ClusterFacts
from debugbox.edge.kube_transfer import Sink, check_local, send_folder, upload_name
from debugbox.edge.transfer import Summary, TransferRefused

DATA = bytes(range(256)) * 40 + b"\r\n\x00"
ODD = "rapport final — été.bin"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH holding only the commands the script may run."""
    where = tmp_path / "bin"
    where.mkdir()
    for name in ("tar", "mkdir", "mv", "rm"):
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed on this machine")
        (where / name).symlink_to(found)
    return where


@pytest.fixture
def local(tmp_path: Path) -> Path:
    top = tmp_path.resolve() / "site"
    (top / "sub" / "empty").mkdir(parents=True)
    (top / "sub" / "data.bin").write_bytes(DATA)
    (top / ODD).write_text("odd\n")
    (top / "secret-link").symlink_to("/etc/passwd")
    (top / "sub" / "dir-link").symlink_to("..")
    os.mkfifo(top / "pipe")
    return top


def _archive(src: Path) -> tuple[bytes, Summary]:
    buffer = io.BytesIO()
    summary = Summary()
    send_folder(src, src.name, Sink(buffer, lambda: None), summary, None)
    return buffer.getvalue(), summary


def _run(archive: bytes, dest: Path, name: str, bin_dir: Path) -> subprocess.CompletedProcess[bytes]:
    sh = shutil.which("sh")
    assert sh is not None
    return subprocess.run(
        [sh, "-c", pod_data.UPLOAD_FOLDER_SCRIPT, "debugbox-data", str(dest), name, pod_data.upload_marker(name)],
        input=archive, env={"TARGET_PID": str(os.getpid()), "PATH": str(bin_dir)},
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip


def _leftovers(where: Path) -> list[str]:
    return [p.name for p in where.iterdir() if p.name.startswith(".debugbox-upload-")]


def test_the_archive_holds_relative_regular_files_and_folders_then_the_marker(local: Path) -> None:
    archive, summary = _archive(local)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == [
        "site",
        f"site/{ODD}",
        "site/sub",
        "site/sub/data.bin",
        "site/sub/empty",
        ".debugbox-complete",
    ]
    assert all(m.isreg() or m.isdir() for m in members) and all(m.uid == 0 for m in members)
    assert (summary.files, summary.directories, summary.bytes) == (2, 3, len(DATA) + 4)
    # Links (out of the folder or not) and the FIFO are listed, never followed nor opened.
    assert sorted(summary.skipped or []) == [
        f"{local}/pipe: a special file, not copied",
        f"{local}/secret-link: a link, not copied",
        f"{local}/sub/dir-link: a link, not copied",
    ]


def test_a_folder_lands_whole_under_a_new_name_or_into_a_folder(
    local: Path, bin_dir: Path, tmp_path: Path
) -> None:
    archive, _ = _archive(local)
    target = tmp_path / "target"
    target.mkdir()
    into = _run(archive, target, "site", bin_dir)
    assert into.returncode == 0, into.stderr
    assert into.stdout.decode().strip() == f"{target}/site"  # the landed path, as the target names it
    assert (target / "site" / "sub" / "data.bin").read_bytes() == DATA
    assert (target / "site" / ODD).read_text() == "odd\n" and (target / "site" / "sub" / "empty").is_dir()
    assert not os.path.lexists(target / "site" / "secret-link")
    renamed = _run(archive, target / "www", "site", bin_dir)  # `cp -r` naming: a new path takes the folder
    assert renamed.returncode == 0, renamed.stderr
    assert (target / "www" / "sub" / "data.bin").read_bytes() == DATA
    assert sorted(p.name for p in target.iterdir()) == ["site", "www"]  # no marker, no temporary folder


def test_an_existing_destination_is_never_merged_into_nor_replaced(
    local: Path, bin_dir: Path, tmp_path: Path
) -> None:
    archive, _ = _archive(local)
    (tmp_path / "target" / "site").mkdir(parents=True)
    (tmp_path / "target" / "site" / "mine").write_text("kept")
    (tmp_path / "target" / "file").write_text("kept")
    # Into `target`, the folder would be `target/site`, which exists; `target/file` exists as a file.
    for dest in (tmp_path / "target", tmp_path / "target" / "file"):
        out = _run(archive, dest, "site", bin_dir)
        assert out.returncode == 88, out.stderr
        assert "exists in the target" in pod_data.explain(88, str(dest), out.stderr.decode())
    assert [p.name for p in (tmp_path / "target" / "site").iterdir()] == ["mine"]
    assert (tmp_path / "target" / "file").read_text() == "kept"
    assert _leftovers(tmp_path / "target") == []


def test_a_link_on_the_destination_path_is_refused(local: Path, bin_dir: Path, tmp_path: Path) -> None:
    archive, _ = _archive(local)
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    out = _run(archive, tmp_path / "via" / "new", "site", bin_dir)
    assert out.returncode == 94 and out.stderr.decode().strip() == str(tmp_path / "via")
    assert list((tmp_path / "real").iterdir()) == []


def test_a_cut_archive_leaves_nothing_whether_tar_notices_or_not(
    local: Path, bin_dir: Path, tmp_path: Path
) -> None:
    archive, _ = _archive(local)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = tar.getmembers()
    data_at = next(m for m in members if m.name == "site/sub/data.bin").offset_data
    marker_at = members[-1].offset
    target = tmp_path / "target"
    target.mkdir()
    # Mid-file, tar fails itself (97); at an entry boundary it ends without an error, and only the missing
    # marker says the archive was cut (98). Before the marker existed, that case renamed a partial folder.
    for cut, code in ((data_at + 100, 97), (marker_at, 98)):
        out = _run(archive[:cut], target / "new", "site", bin_dir)
        assert out.returncode == code, (cut, out.stderr)
        assert list(target.iterdir()) == [], cut


def test_upload_paths_names_and_argv() -> None:
    assert pod_data.upload_folder_path("/www/../srv/./site/") == "/srv/site"
    assert pod_data.upload_folder_path("//x") == "/x" and pod_data.upload_folder_path("/..") == "/"
    for bad in ("relative", "/a\x00b"):
        with pytest.raises(InvalidTarget):
            pod_data.upload_folder_path(bad)
    for name in ("", ".", "..", "a/b", "a\nb", "a\x7fb"):
        with pytest.raises(InvalidTarget):
            pod_data.upload_name(name)
    assert pod_data.upload_marker("site") != "site"
    assert pod_data.upload_marker(".debugbox-complete") != ".debugbox-complete"
    ref = pod_data.DebugContainerRef("web", "default", "debugbox-app", "app", ClusterFacts(kubectl="kubectl"))
    argv = pod_data.upload_folder_argv(ref, "/www/../srv/", "-site")
    assert argv[:3] == ("kubectl", "exec", "-i") and "-t" not in argv and "-it" not in argv
    # The script's arguments follow it, after the script's own name: a name starting with `-` stays an argument.
    script_at = argv.index(pod_data.UPLOAD_FOLDER_SCRIPT)
    assert argv[script_at + 1 :] == ("debugbox-data", "/srv", "-site", ".debugbox-complete")


def test_the_local_side_names_the_upload_and_refuses_what_cannot_be_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check_local` (before any debug container is added): `.` is sent under the folder's own name, a name
    the target could not take and a FIFO are refused in one sentence."""
    (tmp_path / "app").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    assert upload_name(Path(".")) == "app" and upload_name(Path("sub/..")) == "app"
    check_local(Path("."), out=False)
    odd = tmp_path / "line\nbreak"
    odd.mkdir()
    os.mkfifo(tmp_path / "fifo")
    for src, said in (
        (odd, "cannot upload a file or folder named"),
        (tmp_path / "fifo", "not a regular file"),
    ):
        with pytest.raises(TransferRefused, match=said):
            check_local(src, out=False)
