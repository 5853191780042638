"""Pods over a real stdio LSP connection: the "Debug pod…" lens on a manifest's container names,
`debugbox.listTargets` for a manifest, and `debugbox.openDebugTerminal` on a pod container — the server
talking to the fake API server through the real Python client, found through `KUBECONFIG` like a user's
cluster.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.kubernetes.workloads import workloads_in
from debugbox.core.wire import OPEN_TERMINAL_METHOD, Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig

from tests.deadlines import answers_within, outlasting, within
from tests.fakes.kube_apiserver import FakeKubeAPIServer
from tests.integration.kubernetes.bootstrap_argv import split_session
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv
from tests.lsp.conftest import (
    SERVER_COMMAND,
    EditorClient,
    initialize_params,
    make_editor_client,
    terminal_env,
    vscode_capabilities,
)

pytestmark = pytest.mark.kubernetes

TIMEOUT = 2.0

#: The server process is configured before a test's fixtures run, so its kubeconfig lives at a fixed path that
#: the `fake_cluster` fixture (re)writes for each test.
KUBECONFIG = Path(tempfile.mkdtemp(prefix="dbx-kube-lsp-")) / "config"

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: gcr.io/distroless/static-debian12
"""


def make_client() -> EditorClient:
    client = make_editor_client()
    client.terminals = []  # type: ignore[attr-defined]
    client.choice = None  # type: ignore[attr-defined]  # the button a test "clicks" in a showMessageRequest
    client.asked = []  # type: ignore[attr-defined]
    client.on_ask = None  # type: ignore[attr-defined]

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def message_request(
        c: EditorClient, params: lsp.ShowMessageRequestParams
    ) -> lsp.MessageActionItem | None:
        c.asked.append(params)  # type: ignore[attr-defined]
        if c.on_ask is not None:  # type: ignore[attr-defined]
            c.on_ask(params)  # type: ignore[attr-defined]  # what the user does while the question shows
        choice = c.choice  # type: ignore[attr-defined]
        return lsp.MessageActionItem(title=choice) if choice else None

    @client.feature(OPEN_TERMINAL_METHOD)
    def open_terminal(c: EditorClient, params: Any) -> dict[str, Any]:
        c.terminals.append(params)  # type: ignore[attr-defined]
        return {"opened": True}

    return client


CONFIG = ClientServerConfig(
    server_command=SERVER_COMMAND,
    client_factory=make_client,
    server_env={**os.environ, "KUBECONFIG": str(KUBECONFIG)},
)


@pytest.fixture
def fake_cluster(kubectl_path: Path) -> Iterator[FakeKubeAPIServer]:
    fake = FakeKubeAPIServer().start()
    fake.write_kubeconfig(KUBECONFIG)
    fake.store.add_pod(
        "web-1",
        "shop",
        [{"name": "app", "image": "gcr.io/distroless/static-debian12"}],
        labels={"app": "web"},
    )
    yield fake
    fake.stop()
    assert not fake.errors


@pytest_lsp.fixture(config=CONFIG)
async def editor(
    lsp_client: EditorClient, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    options = {"toolboxImage": "busybox:1.36", "kubernetes": {"timeoutSeconds": TIMEOUT}}
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def patient_editor(
    lsp_client: EditorClient, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    """An editor whose cluster timeout gives a debug container six minutes to start (`start_deadline`); the test
    shuts the server down itself."""
    options = {"toolboxImage": "busybox:1.36", "kubernetes": {"timeoutSeconds": 60}}
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield


async def _command(client: EditorClient, name: str, args: dict[str, Any]) -> Any:
    params = lsp.ExecuteCommandParams(command=name, arguments=[args])
    return await asyncio.wait_for(client.workspace_execute_command_async(params), 30)


def _open_saved(editor: EditorClient, path: Path, text: str) -> str:
    """Write a manifest to disk and open it in the editor, as saved."""
    path.write_text(text)
    return editor.open(path, text, language_id="yaml")


async def test_debug_pod_lens_then_open_the_terminal(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    uri = _open_saved(editor, tmp_path / "web.yaml", MANIFEST)
    params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))

    lens = None
    for _ in range(60):  # the first request starts the pod watch; the lens comes after its refresh
        lenses = await asyncio.wait_for(editor.text_document_code_lens_async(params), 20) or []
        lens = next((x for x in lenses if x.command and x.command.title.startswith("Debug pod")), None)
        if lens:
            break
        await asyncio.sleep(0.25)
    assert lens is not None and lens.command is not None
    assert lens.command.title == "Debug pod… (ephemeral)"  # the way a click takes (#13 §1)
    assert lens.command.tooltip is not None
    assert "ephemeral: open" in lens.command.tooltip and "exec: closed (" in lens.command.tooltip
    assert lens.range.start.line == MANIFEST.splitlines().index("        - name: app")
    (args,) = lens.command.arguments or []
    assert args["target"] == "k8s://fake/shop/web-1/app"
    assert editor.code_lens_refreshes >= 1
    listed = [r for r in fake_cluster.requests if r.path == "/api/v1/namespaces/shop/pods"]
    assert listed and listed[0].q("labelSelector") is None  # one LIST per namespace, shared by all workloads

    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)

    assert result["strategy"] == "ephemeral" and result["opened"] is True
    (terminal,) = editor.terminals
    outer = list(terminal.argv)
    # The terminal runs the command under `debugbox session`, which watches the debug container.
    # `--hold`: the editor closes a terminal whose process ended; a failure's sentence stays until Enter.
    assert outer[:6] == [sys.executable, "-P", "-m", "debugbox", "session", "--hold"]
    argv = outer[outer.index("--") + 1 :]
    assert argv == result["argv"]
    assert argv[0] == shutil.which("kubectl") and argv[1:3] == ["debug", "web-1"]  # absolute: never ./kubectl
    assert "-it" in argv and "--target=app" in argv
    plain, env, command = split_session(argv)  # the session bootstrap, waiting for the attach
    assert "--image=busybox:1.36" in plain and plain[-2:] == ["-c", "debugbox-app"] and command == []
    assert env["DEBUGBOX_ATTACH"] == "1"
    watch = json.loads(outer[outer.index("--watch") + 1])
    assert watch == result["watch"]
    # The fix a failure names: the toolboxImages entry to add for this context and namespace.
    assert '{"context": "fake", "namespace": "shop", "image": "…"}' in watch.pop("fix")
    assert watch == {
        "context": "fake", "namespace": "shop", "pod": "web-1", "container": "debugbox-app",
        "ephemeral": True, "image": "busybox:1.36", "target": "app",
    }  # fmt: skip
    dry = [r for r in fake_cluster.requests if r.method == "PATCH"]
    assert dry and all(r.q("dryRun") == "All" for r in dry)  # planning changes nothing in the pod


async def test_list_targets_for_a_manifest(editor: Any, tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST)
    result = await _command(editor, Command.LIST_TARGETS.value, {"uri": path.as_uri()})
    kube = [t for t in result["targets"] if t["runtime"] == "kubernetes"]
    assert [t["id"] for t in kube] == ["k8s://fake/shop/web-1/app"]
    assert kube[0]["related"] is True and kube[0]["recommended"] == "ephemeral"
    assert kube[0]["namespace"] == "shop" and kube[0]["phase"] == "Running"


def _workload(**changes: Any) -> dict[str, Any]:
    (workload,) = workloads_in(MANIFEST)
    return {**workload.to_json(), **changes}


async def test_open_a_workloads_pod_by_manifest_and_workload(editor: Any, tmp_path: Path) -> None:
    """What a "debug now without restarting" action sends: the manifest and the typed workload, no target."""
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST)
    args = {"uri": path.as_uri(), "workload": _workload(), "strategy": "ephemeral"}
    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert result["target"] == "k8s://fake/shop/web-1/app" and result["strategy"] == "ephemeral"
    other = _workload(name="other", selector={"matchLabels": {"app": "other"}})
    with pytest.raises(JsonRpcException, match="no running container is related"):
        await _command(editor, Command.DEBUG_COMMAND.value, {**args, "workload": other})
    # A `Kind/name` string is not a workload: it would have to be looked up again, in some text.
    with pytest.raises(JsonRpcException, match='"workload": a workload must be an object'):
        await _command(editor, Command.DEBUG_COMMAND.value, {**args, "workload": "Deployment/web"})


async def _debug_now(editor: EditorClient, uri: str, line: int) -> lsp.Command:
    """The "…or debug now without restarting" code action at `line` of the open document `uri`."""
    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0)),
        context=lsp.CodeActionContext(diagnostics=[]),
    )
    for _ in range(40):  # the first request may come before the analysis of the newest version
        actions = await asyncio.wait_for(editor.text_document_code_action_async(params), 20) or []
        found = [a for a in actions if isinstance(a, lsp.CodeAction) and a.title.startswith("…or debug now")]
        if found and found[0].command is not None:
            return found[0].command
        await asyncio.sleep(0.1)
    raise AssertionError("no debug-now action")


#: The same Deployment as an item of a `kind: List`, after a Service.
LIST_MANIFEST = (
    "apiVersion: v1\nkind: List\nitems:\n"
    "  - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}}}\n"
    + "  - "
    + textwrap.indent(MANIFEST, "    ")[4:]
)


async def test_debug_now_for_a_deployment_inside_a_list_runs_with_real_kubectl(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    uri = _open_saved(editor, tmp_path / "list.yaml", LIST_MANIFEST)
    command = await _debug_now(editor, uri, LIST_MANIFEST.splitlines().index("            - name: app"))

    result = await _command(editor, command.command, (command.arguments or [])[0])

    assert result["target"] == "k8s://fake/shop/web-1/app" and result["opened"] is True
    (terminal,) = editor.terminals
    outer = list(terminal.argv)
    argv = outer[outer.index("--") + 1 :]  # under `debugbox session`, which watches the debug container
    assert argv[0] == shutil.which("kubectl") and argv[1:3] == ["debug", "web-1"] and "--target=app" in argv
    # Run it with the pinned kubectl (without -it, so it returns): the ephemeral container really is added.
    home = tmp_path / "home"
    home.mkdir()
    env = {"KUBECONFIG": str(KUBECONFIG), "HOME": str(home), "PATH": os.environ.get("PATH", "")}
    batch = [str(KUBECTL), *(a for a in argv[1:] if a != "-it")]
    out = subprocess.run(batch, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert 'Targeting container "app"' in out.stdout
    stored = fake_cluster.store.get("shop", "web-1")
    assert [c["name"] for c in stored["spec"]["ephemeralContainers"]] == ["debugbox-app"]


async def test_an_unsaved_edit_is_what_the_live_side_uses(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    """The file on disk says shop/app=web; the editor's buffer (changed, not saved) says edge/app=api."""
    fake_cluster.store.add_pod(
        "api-1",
        "edge",
        [{"name": "app", "image": "gcr.io/distroless/static-debian12"}],
        labels={"app": "api"},
    )
    path = tmp_path / "web.yaml"
    uri = _open_saved(editor, path, MANIFEST)
    edited = MANIFEST.replace("namespace: shop", "namespace: edge").replace("app: web}", "app: api}")
    editor.replace(uri, edited)
    assert path.read_text() == MANIFEST  # never saved

    listed = await _command(editor, Command.LIST_TARGETS.value, {"uri": uri})
    assert [t["id"] for t in listed["targets"] if t["runtime"] == "kubernetes"] == [
        "k8s://fake/edge/api-1/app"
    ]
    planned = await _command(editor, Command.DEBUG_COMMAND.value, {"uri": uri})
    assert planned["target"] == "k8s://fake/edge/api-1/app"
    command = await _debug_now(editor, uri, edited.splitlines().index("        - name: app"))
    (args,) = command.arguments or []
    assert args["workload"]["namespace"] == "edge"
    result = await _command(editor, command.command, args)
    assert result["target"] == "k8s://fake/edge/api-1/app"
    lists = [r for r in fake_cluster.requests if r.method == "GET" and r.path.endswith("/pods")]
    assert {r.path for r in lists} == {"/api/v1/namespaces/edge/pods"}  # the saved text was never used


async def _still_serving(client: EditorClient, workspace: Path) -> None:
    uri = client.open(workspace / "Dockerfile", "FROM scratch\nCMD /app\n")
    await client.diagnostics_for(uri, 1)


async def test_a_slow_cluster_is_an_error_entry_within_the_timeout(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    fake_cluster.faults.delay_seconds = outlasting(TIMEOUT)
    path = tmp_path / "web.yaml"
    path.write_text(MANIFEST)
    args = {"uri": path.as_uri()}
    result = await answers_within(within(TIMEOUT), _command(editor, Command.LIST_TARGETS.value, args))
    assert any(f"did not answer within {TIMEOUT:g} s" in e for e in result["errors"]), result["errors"]
    await _still_serving(editor, tmp_path)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("unauthorized", "401 Unauthorized"),
        ("internal_error", "(500): Internal error occurred"),
        ("malformed", "malformed JSON"),
        ("denied", "`get pods` in namespace shop"),
    ],
)
async def test_cluster_failures_are_clear_messages_and_the_server_keeps_serving(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer, fault: str, expected: str
) -> None:
    if fault == "denied":
        fake_cluster.faults.denied.add(("get", "pods"))
    else:
        setattr(fake_cluster.faults, fault, True)
    with pytest.raises(JsonRpcException) as caught:
        await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": "k8s://fake/shop/web-1/app"})
    assert expected in str(caught.value)
    assert any(expected in m.message for m in editor.messages)  # the user is told, not only the caller
    assert editor.terminals == []
    await _still_serving(editor, tmp_path)


def test_no_debugbox_module_imports_the_kubernetes_client_until_a_cluster_is_asked() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import debugbox\n"
        "from debugbox.lsp.server import create_server\n"
        "create_server()\n"
        "for m in pkgutil.walk_packages(debugbox.__path__, 'debugbox.'):\n"
        "    if m.name not in ('debugbox.__main__',):\n"
        "        importlib.import_module(m.name)\n"
        "print('kubernetes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


async def test_an_unpullable_toolbox_is_explained_in_the_terminal_and_as_a_message(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    """#13 §3: the terminal's command ends with the sentence and exit status 3; the server shows it too."""
    from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED

    from tests.fakes.kube import ImageSpec

    fake_cluster.images["registry.invalid/tools:1"] = ImageSpec(pullable=False)
    args = {"target": "k8s://fake/shop/web-1/app", "image": "registry.invalid/tools:1"}
    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert result["opened"] is True and result["strategy"] == "ephemeral"
    (terminal,) = editor.terminals
    env = {
        **os.environ,
        **terminal_env(terminal),
        "KUBECONFIG": str(KUBECONFIG),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
    }
    ran = await asyncio.to_thread(
        subprocess.run,
        list(terminal.argv),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert ran.returncode == EXIT_NOT_STARTED, ran.stderr
    assert "debugbox: the cluster (context fake) cannot pull registry.invalid/tools:1" in ran.stderr
    message = await editor.wait_for(
        lambda: next(
            (m for m in editor.messages if "cannot pull registry.invalid/tools:1" in m.message), None
        ),
        30,
    )
    assert message.type == lsp.MessageType.Error and "debugbox.toolboxImage" in message.message


async def test_a_default_lens_click_never_creates_a_copy(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    """#10 §5: where only a copy would work, the lens's command refuses and says what a copy would create;
    the command with `"strategy": "copy"` (the explicit choice) plans it."""
    fake_cluster.faults.ephemeral_disabled = True
    args = {"target": "k8s://fake/shop/web-1/app"}  # what the lens sends
    with pytest.raises(JsonRpcException, match="only a copy of pod shop/web-1 would work") as refused:
        await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert "it creates pod web-1-debugbox" in str(refused.value) and "--strategy copy" in str(refused.value)
    assert not editor.terminals and not fake_cluster.requests_to("POST", "/pods")
    result = await _command(editor, Command.DEBUG_COMMAND.value, {**args, "strategy": "copy"})
    assert result["strategy"] == "copy" and "--copy-to=web-1-debugbox" in result["argv"]
    assert result["watch"]["pod"] == "web-1-debugbox" and result["watch"]["ephemeral"] is False


async def test_the_copy_confirmation_creates_the_copy_only_when_chosen(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    """#10 §5 in any editor: the lens click asks (`window/showMessageRequest`, saying what is created and how to
    delete it); "Cancel" creates nothing, "Create the copy" opens the terminal that creates the labelled copy."""
    fake_cluster.faults.ephemeral_disabled = True
    args = {"target": "k8s://fake/shop/web-1/app"}
    editor.choice = "Cancel"
    with pytest.raises(JsonRpcException, match="only a copy of pod shop/web-1 would work"):
        await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    (asked,) = editor.asked
    assert "it creates pod web-1-debugbox" in asked.message and "delete pod web-1-debugbox" in asked.message
    assert [a.title for a in asked.actions] == ["Create the copy", "Cancel"]
    assert not editor.terminals and not fake_cluster.requests_to("POST", "/pods")

    editor.choice = "Create the copy"
    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert result["strategy"] == "copy" and result["opened"] is True
    (terminal,) = editor.terminals
    assert "--copy-to=web-1-debugbox" in list(terminal.argv)
    assert not fake_cluster.requests_to("POST", "/pods")  # kubectl in the terminal creates it, not the server


async def test_an_rbac_denial_is_an_error_message_with_the_role_to_ask_for(
    editor: Any, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> None:
    """#13 §1: a lens click whose ways RBAC closes fails with the sentence and the Role + RoleBinding, shown as an
    error message too; nothing is written to the cluster."""
    fake_cluster.rbac.allow("alice", ["get"], ["pods"], namespaces=["shop"])
    fake_cluster.write_kubeconfig(KUBECONFIG, user="alice")
    args = {"target": "k8s://fake/shop/web-1/app", "strategy": "ephemeral"}
    with pytest.raises(JsonRpcException, match="RBAC does not allow you to"):
        await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    message = await editor.wait_for(
        lambda: next((m for m in editor.messages if "kind: RoleBinding" in m.message), None), 30
    )
    assert message.type == lsp.MessageType.Error
    assert 'name: "alice"' in message.message and '"pods/ephemeralcontainers"' in message.message
    assert not editor.terminals and not fake_cluster.requests_to("PATCH")


#: The server as `pip install debugbox` (without the [kubernetes] extra) runs it: the import fails as it would.
NO_CLIENT = (
    "import sys; sys.modules['kubernetes'] = None; from debugbox.cli import main; sys.exit(main(['lsp']))"
)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-P", "-c", NO_CLIENT],
        client_factory=make_client,
        server_env={**os.environ, "KUBECONFIG": str(KUBECONFIG)},
    )
)
async def bare_editor(
    lsp_client: EditorClient, tmp_path: Path, fake_cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), {}))
    yield
    await lsp_client.shutdown_session()


async def test_a_missing_kubernetes_client_is_offered_for_installation(bare_editor: Any) -> None:
    """#13 §6: no pip step to work out. The lens click asks to install the client into the server's interpreter;
    "Install" opens a terminal running that interpreter's pip (run by the user, in view); "Cancel" only says what
    to install. Never a traceback."""
    args = {"target": "k8s://fake/shop/web-1/app"}
    bare_editor.choice = "Cancel"
    with pytest.raises(JsonRpcException, match=r"pip install 'debugbox\[kubernetes\]'"):
        await _command(bare_editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    (asked,) = bare_editor.asked
    assert sys.executable in asked.message and "kubernetes>=31" in asked.message
    assert not bare_editor.terminals

    bare_editor.choice = "Install the Kubernetes client"
    with pytest.raises(JsonRpcException, match="being installed in the terminal"):
        await _command(bare_editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    (terminal,) = bare_editor.terminals
    user = ["--user"] if sys.prefix == sys.base_prefix else []
    assert list(terminal.argv) == [sys.executable, "-m", "pip", "install", *user, "kubernetes>=31"]
    assert "Traceback" not in "".join(m.message for m in bare_editor.messages)


async def test_the_server_exits_at_once_while_it_watches_a_debug_container_that_has_not_started(
    patient_editor: Any, fake_cluster: FakeKubeAPIServer
) -> None:
    """The editor closes (shutdown, exit) right after a debug terminal opened whose container never runs (the
    terminal was closed first): the server waited for its watch to reach the start deadline, six cluster
    timeouts (a minute by default), before its process ended. `EditorClient.stop` fails past EXIT_SECONDS."""
    args = {"target": "k8s://fake/shop/web-1/app"}
    result = await _command(patient_editor, Command.OPEN_DEBUG_TERMINAL.value, args)
    assert result["opened"] is True and result["strategy"] == "ephemeral"
    await patient_editor.shutdown_session()
    await patient_editor.stop()


@pytest.fixture
def outage_cluster(editor: Any, kube_outage: KubeEnv) -> KubeEnv:
    """The docker-backed fake behind its network hop (`kube_outage`) as the server's kubeconfig, written over
    `editor`'s `fake_cluster` one: the server reads it at its first command."""
    kube_outage.fake.write_kubeconfig(KUBECONFIG, namespace="default")
    return kube_outage


def _run_terminal(terminal: Any, kube: KubeEnv, timeout: float) -> subprocess.CompletedProcess[str]:
    """What the editor's terminal runs (its argv and env), not on a terminal (`--hold` then waits for nothing)."""
    env = {**os.environ, **terminal_env(terminal), **kube.env, "KUBECONFIG": str(KUBECONFIG)}
    return subprocess.run(
        list(terminal.argv), env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, cwd=kube.tmp,
    )  # fmt: skip


async def test_an_exec_terminal_whose_api_goes_silent_ends_in_one_sentence(
    editor: Any, outage_cluster: KubeEnv
) -> None:
    """The editor's terminal for an `exec` into a pod runs under `debugbox session --connect`: kubectl's exec
    dial has no deadline, and the terminal hung forever on an API that accepted and never answered. Now it ends
    as `debugbox shell` does: exit 3 (`--hold` keeps the sentence on a terminal) after two API timeouts."""
    from debugbox.core.targets.debug_failures import EXIT_NOT_STARTED

    kube = outage_cluster
    app = {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    kube.fake.store.add_pod("web", containers=[app], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    target = "k8s://fake/default/web/app"

    result = await _command(editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": target})

    assert result["strategy"] == "exec" and result["opened"] is True
    (terminal,) = editor.terminals
    outer = list(terminal.argv)
    assert outer[:6] == [sys.executable, "-P", "-m", "debugbox", "session", "--hold"]
    assert outer[outer.index("--connect") + 1] == target and outer[outer.index("--") + 1 :] == result["argv"]
    healthy = await asyncio.to_thread(_run_terminal, terminal, kube, within(TIMEOUT) * 3)
    assert healthy.returncode == 0, healthy.stderr  # a shell whose stdin ended: watched, nothing in the way

    kube.fake.network.fail_on(lambda r: r.path.endswith("/exec"), "blackhole")
    ran = await asyncio.to_thread(_run_terminal, terminal, kube, within(TIMEOUT) * 3)

    assert ran.returncode == EXIT_NOT_STARTED and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.splitlines()[-1].startswith(
        "debugbox: the Kubernetes API stopped answering while kubectl was connecting to container app in pod "
        "default/web (nothing for 4 s; last: the Kubernetes API at "
    ), ran.stderr
    assert ran.stderr.endswith("then run the command again.\n"), ran.stderr
