"""`debugbox cp` and `debugbox forward` on a real Docker engine, against the distroless-like target (no shell, no
tar, no nc inside): files round-trip byte for byte through the archive API, and a port bound to the target's
127.0.0.1 only answers on this machine; nothing debugbox started is left behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers, container_id, docker
from tests.integration.forwarding import forwarding

pytestmark = pytest.mark.docker

BIG = 100 * 1024 * 1024
NAME = "dir with space/naïve ünïcode — файл.txt"


def debugbox(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_a_100_mb_binary_file_round_trips_through_a_distroless_target(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    src = tmp_path / "big.bin"
    with src.open("wb") as f:
        for _ in range(BIG // (1 << 20)):
            f.write(os.urandom(1 << 20))
    sent = debugbox("cp", str(src), f"{name}:/big.bin")
    assert sent.returncode == 0, sent.stderr
    assert "1 file(s)" in sent.stderr and "100.0 MiB" in sent.stderr, sent.stderr
    back = tmp_path / "back.bin"
    got = debugbox("cp", f"{name}:/big.bin", str(back))
    assert got.returncode == 0, got.stderr
    assert back.stat().st_size == BIG
    assert sha256(back) == sha256(src)


def test_names_with_spaces_and_non_ascii_round_trip_as_a_folder(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    tree = tmp_path / "up"
    (tree / NAME).parent.mkdir(parents=True)
    (tree / NAME).write_bytes(b"\x00\xffbinary and text\n" * 1000)
    (tree / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "run.sh").chmod(0o755)
    assert debugbox("cp", str(tree), f"{name}:/www").returncode == 0
    out = tmp_path / "down"
    got = debugbox("cp", f"{name}:/www/up", str(out))
    assert got.returncode == 0, got.stderr
    assert (out / NAME).read_bytes() == (tree / NAME).read_bytes()
    assert stat.S_IMODE((out / "run.sh").stat().st_mode) == 0o755
    # The target's own files came through the same API: the app's page, copied from a stopped container too.
    docker("stop", "-t", "1", name)
    page = tmp_path / "index.html"
    stopped = debugbox("cp", f"{name}:/www/index.html", str(page))
    assert stopped.returncode == 0, stopped.stderr
    assert page.read_bytes() == docker_export_file(name, "www/index.html")


def docker_export_file(name: str, member: str) -> bytes:
    """The same file read by the engine's own CLI (`docker cp … -` gives a tar), to compare against."""
    import io
    import tarfile

    raw = subprocess.run(
        ["docker", "cp", f"{name}:/{member}", "-"], capture_output=True, timeout=60, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        f = tar.extractfile(tar.getmembers()[0])
        assert f is not None
        return f.read()


def test_nothing_is_replaced_without_force_and_links_are_not_followed(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    mine = tmp_path / "index.html"
    mine.write_text("my own work")
    mine.chmod(0o640)
    refused = debugbox("cp", f"{name}:/www/index.html", str(mine))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert mine.read_text() == "my own work"
    forced = debugbox("cp", "--force", f"{name}:/www/index.html", str(mine))
    assert forced.returncode == 0, forced.stderr
    assert mine.read_text() != "my own work"
    assert stat.S_IMODE(mine.stat().st_mode) == 0o640  # the replaced file keeps its mode
    # Into the target: an existing file is not replaced without --force either.
    again = debugbox("cp", str(mine), f"{name}:/www/index.html")
    assert again.returncode == 1 and "exists in the target" in again.stderr
    # A link planted in the target (here by copying one in) is reported, never recreated on this machine.
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / "passwd").symlink_to("/etc/passwd")
    assert debugbox("cp", str(link_dir), f"{name}:/").returncode == 0
    out = tmp_path / "out"
    got = debugbox("cp", f"{name}:/links", str(out))
    assert got.returncode == 0, got.stderr
    assert "a link, not copied" in got.stderr
    assert not (out / "passwd").exists() and not (out / "passwd").is_symlink()
    # A destination that is a link is refused by name.
    trap = tmp_path / "trap"
    trap.symlink_to(tmp_path / "elsewhere")
    linked = debugbox("cp", f"{name}:/www/index.html", str(trap))
    assert linked.returncode == 1 and "symbolic link" in linked.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_sigterm_or_a_closed_terminal_mid_copy_leaves_no_partial_file(
    containers: Containers, tmp_path: Path
) -> None:
    # Ctrl-C always removed the half-written file; SIGTERM (`timeout`, an editor stopping the task) and SIGHUP
    # (the terminal closed) ended the process on the spot and left it under the final name, looking complete.
    name = containers.run(DISTROLESS)
    size = 512 * 1024 * 1024
    sparse = tmp_path / "big.img"
    sparse.touch()
    os.truncate(sparse, size)
    assert debugbox("cp", str(sparse), f"{name}:/big.img").returncode == 0
    sparse.unlink()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"out-{sig.name}"
        proc, err = stopped_mid_copy(name, out, size, sig)
        assert proc.returncode == 128 + sig, err
        assert "interrupted: the copy is incomplete; no partly written file was left" in err, err
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def stopped_mid_copy(name: str, out: Path, size: int, sig: int) -> tuple[subprocess.Popen[str], str]:
    """`debugbox cp NAME:/big.img OUT` given `sig` while it is writing OUT: held still (SIGSTOP) once OUT has
    some bytes and not all, the signal queued, then let go. A machine so busy that the copy ended before it was
    held is tried again, so the signal always lands mid-copy."""
    for _ in range(5):
        argv = [sys.executable, "-m", "debugbox", "cp", f"{name}:/big.img", str(out)]
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        while not (out.exists() and out.stat().st_size > 0):  # the first bytes are being written
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.001)
        proc.send_signal(signal.SIGSTOP)
        if out.stat().st_size < size:
            proc.send_signal(sig)
            proc.send_signal(signal.SIGCONT)
            return proc, proc.communicate(timeout=60)[1]
        proc.send_signal(signal.SIGCONT)  # too late: the copy is complete
        proc.communicate(timeout=60)
        out.unlink()
    raise AssertionError("the copy always ended before it could be stopped")


def test_a_name_that_is_not_utf8_is_copied_as_its_bytes(containers: Containers, tmp_path: Path) -> None:
    # A path in a container is bytes; one that is not UTF-8 was a traceback (UnicodeEncodeError) in every call
    # that named it to the engine.
    name = containers.run(DISTROLESS)
    odd = os.fsdecode(b"latin-1 caf\xe9.bin")
    (tmp_path / odd).write_bytes(b"\x00bytes\xff")
    sent = debugbox("cp", str(tmp_path / odd), f"{name}:/www")
    assert sent.returncode == 0, sent.stderr
    assert (
        os.fsencode(odd) in subprocess.run(["docker", "cp", f"{name}:/www", "-"], capture_output=True).stdout
    )
    folder = debugbox("cp", f"{name}:/www", str(tmp_path / "back"))
    assert folder.returncode == 0, folder.stderr
    assert (tmp_path / "back" / odd).read_bytes() == b"\x00bytes\xff"
    # By its own name: Docker's archive of it is empty (`docker cp` gets nothing either); one sentence says so.
    alone = debugbox("cp", f"{name}:/www/{odd}", str(tmp_path / "alone"))
    assert alone.returncode in (0, 1) and "Traceback" not in alone.stderr, alone.stderr
    if alone.returncode == 1:
        assert "cannot archive it by that name (copy its folder instead)" in alone.stderr
    else:  # an engine that archives it
        assert (tmp_path / "alone").read_bytes() == b"\x00bytes\xff"


def test_a_folder_upload_replaces_nothing_without_force_and_never_a_file_with_a_folder(
    containers: Containers, tmp_path: Path
) -> None:
    name = containers.run(DISTROLESS)
    site = tmp_path / "site"
    site.mkdir()
    (site / "page.html").write_text("first\n")
    assert debugbox("cp", str(site), f"{name}:/www").returncode == 0
    # Again into the folder that is there now: the engine would merge, replacing page.html, without --force.
    (site / "page.html").write_text("second\n")
    again = debugbox("cp", str(site), f"{name}:/www")
    assert again.returncode == 1, again.stderr
    assert "/www/site exists in the target: pass --force to merge into it" in again.stderr
    assert docker_export_file(name, "www/site/page.html") == b"first\n"
    merged = debugbox("cp", str(site), f"{name}:/www", "--force")
    assert merged.returncode == 0, merged.stderr
    assert docker_export_file(name, "www/site/page.html") == b"second\n"
    # A folder onto a file, a file onto a folder: one sentence, not "pass --force" and then the engine's 500.
    clash = tmp_path / "index.html"
    clash.mkdir()
    onto_file = debugbox("cp", str(clash), f"{name}:/www", "--force")
    assert onto_file.returncode == 1, onto_file.stderr
    assert f"/www/index.html is a file in the target and {clash} a folder" in onto_file.stderr
    (tmp_path / "plain").write_text("x")
    onto_folder = debugbox("cp", str(tmp_path / "plain"), f"{name}:/www/site", "--force")
    assert onto_folder.returncode == 0, onto_folder.stderr  # into the folder, as `cp` does
    www = tmp_path / "www"
    www.write_text("x")
    file_for_folder = debugbox("cp", str(www), f"{name}:/", "--force")
    assert file_for_folder.returncode == 1, file_for_folder.stderr
    assert f"/www is a folder in the target and {www} is not" in file_for_folder.stderr
    assert docker_export_file(name, "www/index.html") == b"hello from distroless-app\n"


def test_force_never_replaces_what_is_not_a_regular_file(containers: Containers, tmp_path: Path) -> None:
    # `--force` renamed a regular file over the destination whatever it was: as root, `cp web:/f /dev/null
    # --force` replaced the device with a file. A FIFO stands in for the device here (the same refusal).
    name = containers.run(DISTROLESS)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    single = debugbox("cp", "--force", f"{name}:/www/index.html", str(fifo))
    assert single.returncode == 1, single.stderr
    assert (
        "is not a regular file (a FIFO, socket or device): --force replaces only regular files"
        in single.stderr
    )
    # In a folder copy, such an entry is skipped and listed; the other entries land.
    (tmp_path / "merge" / "www").mkdir(parents=True)
    os.mkfifo(tmp_path / "merge" / "www" / "index.html")
    merged = debugbox("cp", "--force", f"{name}:/www", str(tmp_path / "merge"))
    assert merged.returncode == 0, merged.stderr
    assert "is not a regular file (a FIFO, socket or device), not replaced" in merged.stderr
    for path in (fifo, tmp_path / "merge" / "www" / "index.html"):
        assert stat.S_ISFIFO(path.lstat().st_mode)


def test_missing_paths_and_bad_usage_say_why(containers: Containers, tmp_path: Path) -> None:
    name = containers.run(DISTROLESS)
    missing = debugbox("cp", f"{name}:/no/such/file", str(tmp_path / "x"))
    assert missing.returncode == 1 and "does not exist in the target" in missing.stderr
    relative = debugbox("cp", f"{name}:www/index.html", str(tmp_path / "x"))
    assert relative.returncode == 2 and "must be absolute" in relative.stderr
    both_local = debugbox("cp", str(tmp_path / "a"), str(tmp_path / "b"))
    assert both_local.returncode == 2 and "exactly one" in both_local.stderr
    no_folder = debugbox("cp", str(tmp_path), f"{name}:/nonexistent/dir/x")
    assert no_folder.returncode == 1 and "is not a folder in the target" in no_folder.stderr
    # Mounted over the container's filesystem, out of the archive API's reach: said, not "copied" into a place
    # the container never sees, nor "does not exist".
    kernel = debugbox("cp", f"{name}:/proc/1/status", str(tmp_path / "x"))
    assert kernel.returncode == 1 and "/proc in a running container is mounted over" in kernel.stderr
    (tmp_path / "note").write_text("x")
    hidden = debugbox("cp", str(tmp_path / "note"), f"{name}:/dev/note")
    assert hidden.returncode == 1 and "it cannot copy /dev/note; use a session" in hidden.stderr
    for result in (missing, relative, both_local, no_folder, kernel, hidden):
        assert "Traceback" not in result.stderr


def test_a_port_bound_to_the_targets_loopback_only_is_forwarded_and_the_helper_removed(
    containers: Containers,
) -> None:
    # The app listens on 127.0.0.1:9090 only and publishes nothing: unreachable from outside its namespace.
    name = containers.run(
        DISTROLESS, "-f", "-p", "127.0.0.1:9090", "-h", "/www", options=("--entrypoint", "/httpd")
    )
    ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).strip()
    with pytest.raises(OSError):  # proof that the app is bound to its loopback: its own address refuses
        socket.create_connection((ip, 9090), timeout=5).close()
    with forwarding(name, 9090, TOOLBOX) as forward:
        helper = forward.helper
        labels = docker("inspect", "-f", "{{json .Config.Labels}}", helper)
        assert container_id(name) in labels
        for _ in range(2):  # two connections, each through its own nc in the helper
            with urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30) as resp:
                assert resp.status == 200
                assert resp.read() == b"hello from distroless-app\n"
    err = forward.err
    assert forward.returncode == 0, err
    assert "2 connection(s) forwarded, helper removed" in err
    deadline = time.monotonic() + 30  # `rm -f` returned; the engine's list may lag a moment behind
    while docker("ps", "-aq", "--filter", f"name={helper}").strip() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not docker("ps", "-aq", "--filter", f"name={helper}").strip()


def test_a_local_port_in_use_is_one_sentence_with_what_to_do_and_leaves_no_helper(
    containers: Containers,
) -> None:
    name = containers.run(DISTROLESS)
    since = docker("system", "info", "-f", "{{.SystemTime}}").strip()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = debugbox("forward", name, "8080", "--local", str(port), "--image", TOOLBOX, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        f"debugbox: cannot listen on 127.0.0.1:{port}: Address already in use; pass another --local port "
        "(--local 0 picks a free one)"
    ]
    # No helper was even created (one created and removed again would leave none listed, but these events).
    until = docker("system", "info", "-f", "{{.SystemTime}}").strip()
    label = f"label=io.debugbox.forward-for={container_id(name)}"
    assert not docker("events", "--since", since, "--until", until, "--filter", label).strip()


def _starting(pid: int) -> bool:
    """debugbox's `docker run -d` of the helper is under way (the engine may be creating it)."""
    children = subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return " run -d " in children


@pytest.mark.parametrize("moment", ["while the engine CLI runs", "once the engine has the helper"])
def test_closing_the_terminal_while_the_helper_starts_leaves_no_helper(
    containers: Containers, moment: str
) -> None:
    """The editor closes the forward's terminal (SIGHUP to its process group) while the helper starts, as on a
    slow start or a pull: debugbox died there (its handler came later), or the hang-up killed the engine CLI
    mid-create and the helper appeared after debugbox had removed nothing; either way it stayed on the engine.
    Now the hang-up waits for the start to return, and the helper is removed."""
    name = containers.run(DISTROLESS)
    argv = [sys.executable, "-m", "debugbox", "forward", name, "8080", "--local", "0", "--image", TOOLBOX]
    label = f"label=io.debugbox.forward-for={container_id(name)}"
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if moment.startswith("while") and _starting(proc.pid):
                break
            if moment.startswith("once") and docker("ps", "-aq", "--filter", label).strip():
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGHUP)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(5)  # a create the engine was still doing when debugbox ended shows up late
    left = docker("ps", "-aq", "--filter", label).split()
    for helper in left:
        docker("rm", "-f", helper)
    assert left == []


def test_a_target_that_stops_ends_the_forward_and_removes_the_helper(containers: Containers) -> None:
    # The helper keeps the target's network namespace alive: every connection was refused, silently, until Ctrl-C.
    name = containers.run(DISTROLESS)
    with forwarding(name, 8080, TOOLBOX) as forward:
        with urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30) as resp:
            assert resp.status == 200
        docker("stop", "-t", "1", name)
        forward.wait(timeout=60)  # it ends by itself
    assert forward.returncode == 1, forward.err
    assert f"debugbox: {name} stopped, which ended the forward; 1 connection(s) forwarded" in forward.err
    assert not docker("ps", "-aq", "--filter", f"name={forward.helper}").strip()


def test_a_port_nobody_listens_on_is_said_and_an_ipv6_loopback_listener_is_reached(
    containers: Containers,
) -> None:
    # The app listens on [::1]:9091 only, as Node's `localhost` does (Docker turns IPv6 off unless asked).
    ipv6 = ("--sysctl", "net.ipv6.conf.all.disable_ipv6=0", "--sysctl", "net.ipv6.conf.lo.disable_ipv6=0")
    name = containers.run(
        DISTROLESS, "-f", "-p", "[::1]:9091", "-h", "/www", options=("--entrypoint", "/httpd", *ipv6)
    )
    with forwarding(name, 9091, TOOLBOX) as forward:
        with urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30) as resp:
            assert resp.read() == b"hello from distroless-app\n"  # before: an empty reply
    assert forward.returncode == 0, forward.err
    # Nothing on 9092: said when the forward starts, and for the connection that got nothing (it was silent).
    with forwarding(name, 9092, TOOLBOX) as forward:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{forward.local}/", timeout=30).close()
    assert f"nothing listens on port 9092 in {name} yet" in forward.err, forward.err
    assert "a connection got no answer: nothing accepted it on 127.0.0.1:9092 in the target" in forward.err
    assert "Connection refused" in forward.err
