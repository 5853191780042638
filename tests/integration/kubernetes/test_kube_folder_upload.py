"""Folder uploads into a shell-less pod (issue #15): `debugbox cp LOCALDIR pod/NAME:/PATH` as a user runs it, with
real kubectl against the docker-backed fake, the debug container's busybox `tar` extracting the archive debugbox
builds. What landed is read back from the target's own docker container with `docker cp` (the target is
distroless: nothing to exec in it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from debugbox.core.targets import pod_data
from debugbox.core.targets.pod_facts import ClusterFacts
from debugbox.edge import kube_transfer
from debugbox.edge.transfer import TransferRefused

from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv
from tests.integration.kubernetes.test_kube_data import FIXTURE_INDEX, ODD_NAME, _pod

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

BINARY = os.urandom(3 * 1024 * 1024) + b"\r\n\x00\x1b[0m\n\r\x03\x04"


def _local_tree(top: Path) -> dict[str, bytes]:
    files = {ODD_NAME: BINARY, "sub/a.txt": b"nested\r\n", "sub/zero": b""}
    for rel, data in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(data)
    (top / "empty").mkdir()
    (top / "passwd").symlink_to("/etc/passwd")  # a link leaving the folder
    (top / "sub" / "back").symlink_to("..")  # a link to a folder inside it
    return files


def _pulled(kube: KubeEnv, path: str, into: Path) -> Path:
    """`path` of the target's docker container copied to `into` with `docker cp` (the engine, not debugbox)."""
    assert kube.fake.docker is not None
    name = kube.fake.docker.container_name("default", "web", "app")
    into.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["docker", "cp", f"{name}:{path}", str(into)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return into / Path(path).name


def _in_target(kube: KubeEnv, *argv: str) -> subprocess.CompletedProcess[str]:
    """A command in the debug container (busybox), paths under the target's root."""
    return kube.kubectl(["exec", "web", "-c", "debugbox-app", "--", *argv])


def _leftovers(kube: KubeEnv, folder: str) -> list[str]:
    listed = _in_target(kube, "ls", "-a", f"/proc/1/root{folder}")
    assert listed.returncode == 0, listed.stderr
    return [n for n in listed.stdout.split() if n.startswith(".debugbox-")]


def test_cp_uploads_a_folder_into_a_pod_byte_for_byte_and_never_onto_anything(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    _pod(kube)
    up = kube.tmp / "dossier été"
    files = _local_tree(up)
    out = kube.debugbox("cp", str(up), "pod/web:/www/", "--image", "busybox:1.36", "--yes")
    assert out.returncode == 0, out.stderr
    assert f"→ pod/web/app:/www/{up.name} (through debug container debugbox-app)" in out.stderr, out.stderr
    total = sum(len(d) for d in files.values())
    assert "3 file(s), 3 folder(s)" in out.stderr and "Traceback" not in out.stderr
    # Local links are skipped and said, never followed: nothing of /etc/passwd or of the folder again.
    assert f"skipped {up}/passwd: a link, not copied" in out.stderr
    assert f"skipped {up}/sub/back: a link, not copied" in out.stderr

    landed = _pulled(kube, f"/www/{up.name}", kube.tmp / "check")
    for rel, data in files.items():
        assert (landed / rel).read_bytes() == data, rel
    assert (landed / "empty").is_dir() and list((landed / "empty").iterdir()) == []
    assert not os.path.lexists(landed / "passwd") and not os.path.lexists(landed / "sub" / "back")
    assert sum(p.stat().st_size for p in landed.rglob("*") if p.is_file()) == total
    assert _leftovers(kube, "/www") == []  # neither the temporary folder nor the archive's marker

    # To a new path, the folder takes its name (`cp -r`).
    renamed = kube.debugbox("cp", str(up), "pod/web:/www/copy")
    assert renamed.returncode == 0 and "pod/web/app:/www/copy " in renamed.stderr, renamed.stderr
    assert (_pulled(kube, "/www/copy", kube.tmp / "check2") / "sub" / "a.txt").read_bytes() == b"nested\r\n"

    # The destination exists: refused in one sentence, even with --force; nothing merged, nothing replaced.
    (up / "new.txt").write_text("not sent")
    for extra in ([], ["--force"]):
        again = kube.debugbox("cp", str(up), "pod/web:/www", *extra)
        assert again.returncode == 1, again.stderr
        assert again.stderr.strip().splitlines()[-1] == (
            f"debugbox: /www/{up.name} exists in the target: debugbox never merges into or replaces a folder in "
            "a pod (not even with --force); name a path that does not exist yet"
        )
    onto_file = kube.debugbox("cp", str(up), "pod/web:/www/index.html")
    assert onto_file.returncode == 1 and "/www/index.html exists in the target" in onto_file.stderr
    listed = _in_target(kube, "ls", "-a", f"/proc/1/root/www/{up.name}")
    assert "new.txt" not in listed.stdout.split()
    assert _in_target(kube, "cat", "/proc/1/root/www/index.html").stdout.encode() == FIXTURE_INDEX

    # A link on the destination path (it would resolve in the debug container's root): refused by name.
    made = _in_target(kube, "ln", "-s", "/www", "/proc/1/root/site")
    assert made.returncode == 0, made.stderr
    linked = kube.debugbox("cp", str(up), "pod/web:/site/new")
    assert linked.returncode == 1 and "/site is a symbolic link in the target" in linked.stderr, linked.stderr
    assert "new" not in _in_target(kube, "ls", "/proc/1/root/www").stdout.split()
    assert _leftovers(kube, "/") == [] and _leftovers(kube, "/www") == []


def _kubectl_children() -> list[int]:
    """This test process's own `kubectl exec` children running the folder upload script."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[0] == str(KUBECTL).encode() and pod_data.UPLOAD_FOLDER_SCRIPT.encode() in argv:
                found.append(int(pid))
    return found


def _until_no_leftovers(kube: KubeEnv, folder: str) -> list[str]:
    """The script ends on its own after its stdin ended (the kubelet does not kill it): wait for its cleanup."""
    deadline = time.monotonic() + 30
    while (left := _leftovers(kube, folder)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_a_cut_upload_leaves_no_temporary_folder_in_the_pod(
    kube_docker: KubeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubectl killed mid-stream, and a local file that shrinks while it is read: the target's busybox tar stops,
    the script's EXIT trap removes its temporary folder, and the destination never appears."""
    kube = kube_docker
    _pod(kube)
    warm = kube.debugbox(
        "cp", "pod/web:/www/index.html", str(kube.tmp / "warm"), "--image", "busybox:1.36", "--yes"
    )
    assert warm.returncode == 0, warm.stderr
    for key, value in kube.env.items():
        monkeypatch.setenv(key, value)
    ref = pod_data.DebugContainerRef(
        "web", "default", "debugbox-app", "app", ClusterFacts(kubectl=str(KUBECTL))
    )
    up = kube.tmp / "big"
    up.mkdir()
    (up / "a.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    (up / "b.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    seen: list[int] = []

    def kill_kubectl(done: int) -> None:
        # Once a part of the archive went out and the target made its temporary folder: cut the stream.
        if done > 6 * 1024 * 1024 and not seen:
            seen.extend(_kubectl_children())
            for pid in seen:
                os.kill(pid, signal.SIGKILL)

    with pytest.raises(
        TransferRefused, match=re.escape("kubectl was stopped (signal 9); the copy of /www/cut is incomplete")
    ):
        kube_transfer.copy_in(ref, up, "/www/cut", idle=30, progress=kill_kubectl)
    assert seen, "the upload ended before kubectl could be killed"
    assert _until_no_leftovers(kube, "/www") == []
    assert "cut" not in _in_target(kube, "ls", "/proc/1/root/www").stdout.split()

    def shrink(done: int) -> None:
        # b.bin shrinks while tarfile reads it: its entry is cut short, the archive stops there.
        if done > 5 * 1024 * 1024 and not seen[1:]:
            seen.append(0)
            os.truncate(up / "b.bin", 1024 * 1024)

    with pytest.raises(TransferRefused) as shrunk:
        kube_transfer.copy_in(ref, up, "/www/cut", idle=30, progress=shrink)
    assert str(shrunk.value).startswith(f"{up}/b.bin changed or could not be read while it was copied")
    assert str(shrunk.value).endswith("; nothing was left in the target")
    assert str(shrunk.value).count("nothing was left") == 1  # said once, by the pod side that knows it
    assert _leftovers(kube, "/www") == []  # already gone when copy_in returned: the script ended first
    assert "cut" not in _in_target(kube, "ls", "/proc/1/root/www").stdout.split()
