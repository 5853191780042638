"""`--target` verified, not assumed (#13 §4): through the real CLI and real kubectl against the docker-backed
fake, whose runtime switch `Lifecycle.supports_target` decides whether the ephemeral container really joins the
target's PID namespace (`docker_kubelet.py`). Without it the session bootstrap sees no process of the target,
says so in one line, and debugbox ends with `EXIT_TARGET_INVISIBLE` and the command for a copy — which works.
Over LSP the server offers that copy; the last test shows the copy of a crash-looping container (#13 §5) opened
from an editor, created by the terminal's `debugbox session` only after the confirmation.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.targets.debug_failures import EXIT_TARGET_INVISIBLE
from debugbox.core.wire import Command

from tests.fakes.kube import FakeKubeAPIServer, ImageTable
from tests.integration.docker.engine import TOOLBOX
from tests.integration.kubernetes.conftest import DOCKER_IMAGES, KubeEnv
from tests.integration.kubernetes.test_kube_copy_keep_up import CRASHING, _backing_off
from tests.integration.kubernetes.test_kube_lsp import CONFIG, KUBECONFIG, _command
from tests.integration.terminal import Terminal
from tests.lsp.conftest import EditorClient, initialize_params, terminal_env, vscode_capabilities

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

APP = {"name": "app", "image": "example.com/distroless-app:1", "workingDir": "/www"}
SCRIPT = "\nls /target\nexit\n"
EPHEMERAL = ("--image", "busybox:1.36", "--strategy", "ephemeral")


def _running_pod(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", containers=[APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")


def test_a_runtime_that_ignores_target_is_said_and_the_copy_it_offers_works(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.lifecycle.supports_target = False
    _running_pod(kube)

    out = kube.debugbox("shell", "pod/web/app", *EPHEMERAL, stdin=SCRIPT)

    assert out.returncode == EXIT_TARGET_INVISIBLE, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    # The runtime really gave the debug container its own PID namespace: nothing of the target was visible.
    assert kube.fake.kubelet.pid_namespace_of("default", "web", "debugbox-app") == "debugbox-app"
    (said,) = [line for line in out.stderr.splitlines() if line.startswith("debugbox: debug container")]
    assert said == (
        "debugbox: debug container debugbox-app in pod default/web cannot see the processes of container app: "
        "the container runtime ignored --target (or app is not running); a copy of the pod with shared "
        "processes sees them: debugbox shell pod/web/app -n default --context fake --image busybox:1.36 --strategy copy"
    )
    assert "httpd" not in out.stdout.split()  # the session did not go on without its target

    command = said.split("sees them: debugbox ")[1].split()
    copy = kube.debugbox(*command, stdin=SCRIPT)
    try:
        assert copy.returncode == 0, copy.stderr
        assert "(kubernetes pod copy - toolbox busybox:1.36)" in copy.stderr
        assert "httpd" in copy.stdout.split() and "www" in copy.stdout.split()  # ls /target
    finally:
        assert kube.debugbox("cleanup", "--yes").returncode == 0


def test_a_runtime_that_shares_the_target_passes_the_check(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    assert kube.fake.lifecycle.supports_target
    _running_pod(kube)

    out = kube.debugbox("shell", "pod/web/app", *EPHEMERAL, stdin=SCRIPT)

    assert out.returncode == 0, out.stderr
    assert kube.fake.kubelet.pid_namespace_of("default", "web", "debugbox-app") == "app"
    assert "cannot see the processes" not in out.stderr and "no process of" not in out.stderr
    assert "  target    PID 1: /httpd" in out.stderr
    assert "httpd" in out.stdout.split() and "www" in out.stdout.split()


async def _poll(predicate: Callable[[], Any], timeout: float) -> Any:
    """`predicate()` once truthy (server requests, unlike diagnostics, do not wake `EditorClient.wait_for`)."""
    end = asyncio.get_running_loop().time() + timeout
    while not (value := predicate()):
        assert asyncio.get_running_loop().time() < end, "condition not met in time"
        await asyncio.sleep(0.1)
    return value


async def _run_terminal(terminal: Any, home: Path) -> subprocess.CompletedProcess[str]:
    """Run what the editor's terminal runs on a pseudo-terminal, as the editor does (the argv asks kubectl for
    `-it`), the user typing SCRIPT; stdout and stderr are the terminal's one stream."""
    env = {
        **os.environ,
        **terminal_env(terminal),
        "KUBECONFIG": str(KUBECONFIG),
        "HOME": str(home),
    }

    def run() -> subprocess.CompletedProcess[str]:
        term = Terminal(list(terminal.argv), env)
        try:
            term.type(SCRIPT)
            code = term.wait(120)
        finally:
            term.close()
        return subprocess.CompletedProcess(list(terminal.argv), code, term.text, term.text)

    return await asyncio.to_thread(run)


@pytest.fixture
def docker_cluster(
    request: pytest.FixtureRequest, kubectl_path: Path, test_images: None
) -> Iterator[FakeKubeAPIServer]:
    """The docker-backed fake behind the LSP tests' kubeconfig: by default a runtime that ignores `--target`;
    with the parameter "crash-loop", pod web's container crash-loops (a kubelet's long back-off)."""
    fake = FakeKubeAPIServer(docker=True, images=ImageTable(DOCKER_IMAGES), pause_image=TOOLBOX).start()
    fake.write_kubeconfig(KUBECONFIG)
    if getattr(request, "param", "") == "crash-loop":
        fake.lifecycle.backoff_seconds = 600
        fake.store.add_pod("web", "default", [CRASHING], docker=True)
        fake.wait_for("default", "web", _backing_off)
    else:
        fake.lifecycle.supports_target = False
        fake.store.add_pod("web", "default", [APP], docker=True)
        fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    yield fake
    fake.stop()
    assert not fake.errors


@pytest_lsp.fixture(config=CONFIG)
async def editor(
    lsp_client: EditorClient, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    # No deadline is under test here: room for a docker-backed fake on a loaded machine (2 s once cut a watch short).
    options = {"toolboxImage": "busybox:1.36", "kubernetes": {"timeoutSeconds": 10.0}}
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield
    await lsp_client.shutdown_session()


async def test_over_lsp_the_terminal_says_it_and_the_server_offers_the_copy(
    editor: Any, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> None:
    editor.choice = "Create the copy"
    args = {"target": "k8s://fake/default/web/app", "strategy": "ephemeral"}
    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert result["opened"] is True and result["watch"]["target"] == "app"
    (terminal,) = editor.terminals
    ran = await _run_terminal(terminal, tmp_path)  # `debugbox session --watch … -- kubectl debug …`
    assert ran.returncode == EXIT_TARGET_INVISIBLE, ran.stderr
    assert "cannot see the processes of container app" in ran.stderr and "--strategy copy" in ran.stderr

    # The server watched the same container and offered the copy with the confirmation every copy gets.
    asked = await _poll(lambda: next((a for a in editor.asked if "Create a copy?" in a.message), None), 60)
    assert "the container runtime ignored --target" in asked.message
    assert [a.title for a in asked.actions] == ["Create the copy", "Cancel"]
    second = await _poll(lambda: editor.terminals[1] if len(editor.terminals) > 1 else None, 60)
    argv = list(second.argv)
    assert "--copy-to=web-debugbox" in argv and "--share-processes" in argv
    copied = await _run_terminal(second, tmp_path)  # the fake removes the copy's containers when it stops
    assert copied.returncode == 0, copied.stderr
    assert "httpd" in copied.stdout.split() and "www" in copied.stdout.split()  # ls /target in the copy


@pytest.mark.parametrize("docker_cluster", ["crash-loop"], indirect=True)
async def test_over_lsp_a_chosen_copy_of_a_crash_looping_container_is_created_by_the_terminal(
    editor: Any, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> None:
    """#13 §5 in editors: the lens click asks first; the server itself creates nothing, the terminal's `debugbox
    session` creates the copy that keeps the container up and attaches to its debug container."""
    editor.choice = "Create the copy"
    result = await _command(
        editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": "k8s://fake/default/web/app"}
    )
    (asked,) = editor.asked
    assert "only a copy of pod default/web would work" in asked.message and "crash-looping" in asked.message
    assert result["strategy"] == "copy" and result["watch"]["create"]
    assert not docker_cluster.requests_to("POST", "/namespaces/default/pods")  # not by the server
    (terminal,) = editor.terminals
    argv = list(terminal.argv)
    assert argv[argv.index("--") + 2 : argv.index("--") + 4] == ["attach", "-it"]

    ran = await _run_terminal(terminal, tmp_path)

    assert ran.returncode == 0, ran.stderr
    assert "httpd" in ran.stdout.split() and "www" in ran.stdout.split()  # ls /target: the failing container
    (create,) = docker_cluster.requests_to("POST", "/namespaces/default/pods")
    assert "kubectl" not in create.user_agent
    assert docker_cluster.docker is not None and docker_cluster.docker.running(
        "default", "web-debugbox", "app"
    )
