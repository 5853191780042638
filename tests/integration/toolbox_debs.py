"""A real toolbox image built from Debian's packages, without a registry: strace, tcpdump, curl and procps with
the libraries they load (`scripts/download-toolbox-debs.sh` downloads the `.deb` files), unpacked with `dpkg-deb
-x` into one root filesystem, plus the machine's static busybox for `sh` and the small tools, then imported with
`docker import` / `podman import`.

The image is tagged by a hash of its inputs (the `.deb` file names and sizes, the busybox binary, this builder's
version), so it is built once per machine and engine; `ensure_toolbox` logs how long a build took.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from debugbox.edge.toolbox_build import finish_rootfs, import_rootfs

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DOWNLOAD = ROOT / "scripts" / "download-toolbox-debs.sh"
BUSYBOX = Path("/bin/busybox")
#: Bump when the root filesystem's recipe changes, so cached images are rebuilt.
BUILDER_VERSION = "2"
REPOSITORY = "debugbox-test/debian-toolbox"
#: What the tests rely on, checked in the built image.
TOOLS = ("strace", "tcpdump", "curl", "ps", "sh")


def debs_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "debugbox" / "toolbox-debs"


def debs() -> list[Path]:
    """The downloaded packages; downloads them (scripts/download-toolbox-debs.sh) when there are none."""
    folder = debs_dir()
    found = sorted(folder.glob("*.deb"))
    if not found:
        subprocess.run(["bash", str(DOWNLOAD), str(folder)], check=True, capture_output=True, timeout=600)
        found = sorted(folder.glob("*.deb"))
    return found


def tag_for(packages: Sequence[Path]) -> str:
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    for deb in packages:
        digest.update(f"{deb.name}:{deb.stat().st_size}\n".encode())
    digest.update(BUSYBOX.read_bytes())
    return f"{REPOSITORY}:{digest.hexdigest()[:16]}"


def build_rootfs(packages: Sequence[Path], rootfs: Path) -> None:
    rootfs.mkdir(parents=True, exist_ok=True)
    for deb in packages:
        subprocess.run(
            ["dpkg-deb", "-x", str(deb), str(rootfs)], check=True, capture_output=True, timeout=120
        )
    for bulky in (
        "usr/share/doc",
        "usr/share/man",
        "usr/share/locale",
        "usr/share/lintian",
        "usr/share/info",
    ):
        shutil.rmtree(rootfs / bulky, ignore_errors=True)
    # The libraries' folders, then ldconfig's cache inside the new root: the loader finds them wherever the
    # packages put them (/lib or /usr/lib).
    etc = rootfs / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "ld.so.conf").write_text("/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/lib\n/usr/lib\n")
    subprocess.run(["ldconfig", "-r", str(rootfs)], check=True, capture_output=True, timeout=60)
    finish_rootfs(rootfs, BUSYBOX)  # busybox's sh and applets, users, /tmp: as `debugbox toolbox build` does


def ensure_toolbox(cli: Sequence[str] = ("docker",), env: dict[str, str] | None = None) -> str:
    """The toolbox image's tag on the engine `cli` reaches; built (about a minute on vfs) when missing."""
    packages = debs()
    tag = tag_for(packages)
    present = subprocess.run(
        [*cli, "image", "inspect", tag], capture_output=True, timeout=60, env=env, check=False
    )
    if present.returncode == 0:
        return tag
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dbx-debian-toolbox-") as work:
        rootfs = Path(work) / "rootfs"
        build_rootfs(packages, rootfs)
        import_rootfs(cli, rootfs, tag, env=env)
    # Earlier builds (older packages or recipe) are this fixture's own images: only the current one is kept.
    tags = subprocess.run(
        [*cli, "images", "--format", "{{.Tag}}", REPOSITORY],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    ).stdout.split()
    stale = [f"{REPOSITORY}:{old}" for old in tags if f"{REPOSITORY}:{old}" != tag]
    if stale:
        subprocess.run([*cli, "rmi", *stale], capture_output=True, timeout=120, env=env, check=False)
    log.warning(
        "built the Debian toolbox %s from %d packages in %.1f s",
        tag,
        len(packages),
        time.monotonic() - started,
    )
    return tag


#: Run in a session against a target serving HTTP on 8080: the seed's promises, one section each. strace and
#: tcpdump start first, then one request is made; tcpdump stops after capturing its first packet.
PROMISES = """\
echo '== ps'; /bin/ps -eo pid,user,args
strace -f -p "$TARGET_PID" -o /tmp/strace.out 2>/tmp/strace.err & tracer=$!
tcpdump -i any -n -c 1 port 8080 >/tmp/tcpdump.out 2>/tmp/tcpdump.err & dumper=$!
sleep 1
echo '== curl'; curl -sS localhost:8080
wait $dumper
sleep 1; kill $tracer; wait $tracer
echo '== strace'; cat /tmp/strace.out /tmp/strace.err
echo '== tcpdump'; cat /tmp/tcpdump.out /tmp/tcpdump.err
echo '== where'; pwd; ls /target
"""


def promise_sections(stdout: str) -> dict[str, str]:
    """`PROMISES`' output by section name."""
    sections: dict[str, str] = {}
    for chunk in stdout.split("== ")[1:]:
        name, _, body = chunk.partition("\n")
        sections[name.strip()] = body
    return sections


def check_promises(stdout: str, page: str, workdir: str) -> None:
    """What the seed promised, as seen in `PROMISES`' output of a session against a busybox httpd target."""
    out = promise_sections(stdout)
    pid1 = [line.split(None, 2) for line in out["ps"].splitlines() if line.split()[:1] == ["1"]]
    assert pid1 and pid1[0][2].startswith("/httpd -f -p 8080"), out["ps"]
    assert out["curl"].strip() == page
    # The target's own syscalls, while it served that request: accepting it and reading it.
    assert "accept" in out["strace"] and '"GET / HTTP/1.1' in out["strace"], out["strace"]
    assert ".8080" in out["tcpdump"] and "1 packet captured" in out["tcpdump"], out["tcpdump"]
    where = out["where"].split()
    assert where[0] == workdir and {"httpd", "www"} <= set(where[1:])
