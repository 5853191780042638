"""Real-engine helpers shared by the Docker integration tests, the LSP target tests and the terminal
benchmark.

- `engine_ok()`: a Docker engine answers (`docker info`, 10 s at most).
- `build_test_images()`: builds the images of `tests/fixtures/images/` once per process, copying the machine's
  static busybox into a temporary copy of each build context (the contexts in the repository hold no binary).
- `Containers`: starts containers under unique `dbx-<random>` names and removes exactly those.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

IMAGES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "images"
BUSYBOX = Path("/bin/busybox")

TOOLBOX = "toolbox:test"
DISTROLESS = "distroless-app:test"
NONROOT = "distroless-nonroot:test"
SHELL_APP = "shell-app:test"
#: image tag → build context folder under tests/fixtures/images
IMAGES = {
    TOOLBOX: "toolbox",
    DISTROLESS: "distroless-app",
    NONROOT: "distroless-nonroot",
    SHELL_APP: "shell-app",
}

_built = False


def docker(*args: str, timeout: float = 60, check: bool = True, input: str | None = None) -> str:
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, input=input
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def engine_ok() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return (
            subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def busybox_ok() -> bool:
    return BUSYBOX.is_file()


def build_test_images() -> None:
    """Build every test image (each about 2 MB, no network); idempotent within a process."""
    global _built
    if _built:
        return
    with tempfile.TemporaryDirectory(prefix="dbx-images-") as work:
        for tag, folder in IMAGES.items():
            context = Path(work) / folder
            shutil.copytree(IMAGES_DIR / folder, context)
            shutil.copy2(BUSYBOX, context / "busybox")
            docker("build", "-q", "-t", tag, str(context), timeout=300)
    _built = True


def unique_name(prefix: str = "dbx") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Containers:
    """Containers started by one test (or benchmark); `cleanup()` removes exactly them."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def run(
        self,
        image: str,
        *args: str,
        labels: dict[str, str] | None = None,
        create_only: bool = False,
        options: Sequence[str] = (),
    ) -> str:
        """Start (or create) a container of `image`; `options` go before the image (`--workdir`, `--env`...)."""
        name = unique_name()
        self.names.append(name)
        label_args = [a for k, v in (labels or {}).items() for a in ("--label", f"{k}={v}")]
        verb = ["create"] if create_only else ["run", "-d"]
        docker(*verb, "--name", name, *label_args, *options, image, *args)
        return name

    def remove(self, names: Sequence[str]) -> None:
        if names:
            docker("rm", "-f", *names, check=False, timeout=120)

    def cleanup(self) -> None:
        self.remove(self.names)
        self.names.clear()


def container_id(name: str) -> str:
    return docker("inspect", "-f", "{{.Id}}", name).strip()


def exec_ids(name: str) -> str:
    """The engine's list of exec sessions ever started in the container (`null` when none)."""
    return docker("inspect", "-f", "{{json .ExecIDs}}", name).strip()


class HangingSocket:
    """A unix socket that accepts connections and never answers: a hung daemon, as a client sees it."""

    def __init__(self, path: Path) -> None:
        import socket
        import threading

        self.path = path
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    @property
    def accepted(self) -> int:
        """How many connections a client has opened (and is left waiting on)."""
        return len(self._held)

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)  # read nothing, answer nothing, keep it open

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._server.close()
        self.path.unlink(missing_ok=True)  # the path can be bound again (the next test's hung engine)
