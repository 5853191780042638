"""Tiny test images for the real-editor tests, built FROM scratch with Debian's static busybox (no registry).

- the toolbox: busybox with every applet; its interactive shell first prints `ps` (busybox ash sources
  `$ENV`), so a debug terminal shows the processes the sidecar sees before the prompt;
- the target: distroless-like, no shell at all: busybox copied as `/httpd` serving a folder.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

TOOLBOX_IMAGE = "debugbox-e2e-toolbox:test"
TARGET_IMAGE = "debugbox-e2e-distroless:test"


def docker_ok() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def build_images(ctx: Path) -> None:
    toolbox = ctx / "toolbox"
    target = ctx / "target"
    (target / "www").mkdir(parents=True, exist_ok=True)
    toolbox.mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/busybox", toolbox / "busybox")
    shutil.copy("/bin/busybox", target / "busybox")
    (toolbox / "profile").write_text(
        'echo "debugbox-e2e: processes seen from the sidecar:"\nps\n', encoding="utf-8"
    )
    (toolbox / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "COPY profile /etc/debugbox-e2e-profile\n"
        "# busybox ash sources $ENV when it starts interactively: `ps` shows before the prompt.\n"
        "ENV ENV=/etc/debugbox-e2e-profile\n"
        'CMD ["/bin/sh"]\n',
        encoding="utf-8",
    )
    (target / "www" / "index.html").write_text("hello\n", encoding="utf-8")
    (target / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /httpd\n"
        "COPY www /www\n"
        'ENTRYPOINT ["/httpd", "-f", "-p", "8080", "-h", "/www"]\n',
        encoding="utf-8",
    )
    for tag, path in ((TOOLBOX_IMAGE, toolbox), (TARGET_IMAGE, target)):
        subprocess.run(
            ["docker", "build", "-q", "-t", tag, str(path)], check=True, capture_output=True, timeout=300
        )


def run_target(*options: str, labels: dict[str, str] | None = None) -> str:
    """Start a distroless-like container with a unique name (`options` go to `docker run`); the caller removes it
    with `remove(name)`."""
    name = f"dbx-e2e-{uuid.uuid4().hex[:8]}"
    label_args = [f"--label={key}={value}" for key, value in (labels or {}).items()]
    subprocess.run(
        ["docker", "run", "-d", "--name", name, *options, *label_args, TARGET_IMAGE],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return name


def remove(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
