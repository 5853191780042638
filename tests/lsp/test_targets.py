"""Live targets over a real stdio LSP connection: `debugbox/openTerminal` to clients that opted in, the
`window/showMessage` fallback for the others, the Dockerfile code lens, and a Docker engine that is down, hung
or loses the target: a clear error within the timeout, and the server still serving afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.wire import OPEN_TERMINAL_METHOD, Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig

from tests.conftest import require
from tests.deadlines import answers_within, within
from tests.integration.docker.engine import (
    DISTROLESS,
    SHELL_APP,
    TOOLBOX,
    Containers,
    HangingSocket,
    build_test_images,
    busybox_ok,
    container_id,
    engine_ok,
    exec_ids,
)
from tests.lsp.conftest import (
    SERVER_COMMAND,
    EditorClient,
    bare_capabilities,
    initialize_params,
    make_editor_client,
    vscode_capabilities,
)

TIMEOUT = 1.0
#: The engine timeout of the code-lens test: a lens that waited for the hung listing would take this long.
PATIENT = within(TIMEOUT) * 2
OPTIONS = {"toolboxImage": TOOLBOX, "docker": {"timeoutSeconds": TIMEOUT}}
#: One short folder for the broken-engine sockets (unix socket paths are limited to 107 bytes).
SOCKETS = Path(tempfile.mkdtemp(prefix="dbx-lsp-"))
atexit.register(shutil.rmtree, SOCKETS, True)
MISSING = SOCKETS / "missing.sock"
HANGING = SOCKETS / "hanging.sock"


#: An EditorClient that opens terminals when asked: `terminals` holds each `debugbox/openTerminal` payload.
TerminalClient = Any


def make_terminal_client() -> EditorClient:
    client = make_editor_client()
    client.terminals = []  # type: ignore[attr-defined]

    @client.feature(OPEN_TERMINAL_METHOD)
    def open_terminal(c: EditorClient, params: Any) -> dict[str, Any]:
        c.terminals.append(_plain(params))  # type: ignore[attr-defined]
        return {"opened": True}

    return client


def make_refusing_client() -> EditorClient:
    """Opted in to debugbox/openTerminal, but every terminal fails to open (e.g. a remote without a shell)."""
    client = make_editor_client()
    client.terminals = []  # type: ignore[attr-defined]

    @client.feature(OPEN_TERMINAL_METHOD)
    def open_terminal(c: EditorClient, params: Any) -> dict[str, Any]:
        c.terminals.append(_plain(params))  # type: ignore[attr-defined]
        return {"opened": False, "error": "no terminals in this window"}

    return client


def _plain(value: Any) -> Any:
    """pygls hands custom-method params over as namedtuple-like objects; turn them back into JSON data."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _config(**env: str) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=SERVER_COMMAND,
        client_factory=make_terminal_client,
        server_env={**os.environ, **env},
    )


ENGINE = _config()
REFUSING = ClientServerConfig(
    server_command=SERVER_COMMAND, client_factory=make_refusing_client, server_env=dict(os.environ)
)
DOWN = _config(DOCKER_HOST=f"unix://{MISSING}")
HUNG = _config(DOCKER_HOST=f"unix://{HANGING}")


async def _init(client: EditorClient, workspace: Path, caps: lsp.ClientCapabilities) -> None:
    await client.initialize_session(initialize_params(workspace, caps, OPTIONS))


@pytest_lsp.fixture(config=ENGINE)
async def editor(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    """VS Code-like, opted in to debugbox/openTerminal, on the real engine."""
    await _init(lsp_client, tmp_path, vscode_capabilities(open_terminal=True))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ENGINE)
async def plain_editor(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    """A client that declared nothing (no experimental debugbox.openTerminal), on the real engine."""
    await _init(lsp_client, tmp_path, bare_capabilities())
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=REFUSING)
async def refusing_editor(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    await _init(lsp_client, tmp_path, vscode_capabilities(open_terminal=True))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=DOWN)
async def editor_engine_down(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    await _init(lsp_client, tmp_path, vscode_capabilities(open_terminal=True))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=HUNG)
async def editor_engine_hung(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    await _init(lsp_client, tmp_path, vscode_capabilities(open_terminal=True))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=HUNG)
async def editor_engine_hung_patient(lsp_client: EditorClient, tmp_path: Path) -> AsyncIterator[None]:
    """On the hung engine, with a long engine timeout: anything that waited for the engine would be slow."""
    options = {**OPTIONS, "docker": {"timeoutSeconds": PATIENT}}
    await lsp_client.initialize_session(
        initialize_params(tmp_path, vscode_capabilities(open_terminal=True), options)
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Any:
    require(busybox_ok(), "/bin/busybox (Debian's busybox-static) is needed to build the test images")
    require(engine_ok(), "no Docker engine answers (scripts/start-docker.sh starts one)")
    build_test_images()
    pool = Containers()
    request.addfinalizer(pool.cleanup)
    return pool


async def command(client: EditorClient, name: str, args: dict[str, Any], timeout: float = 30) -> Any:
    params = lsp.ExecuteCommandParams(command=name, arguments=[args])
    return await asyncio.wait_for(client.workspace_execute_command_async(params), timeout)


async def still_serving(client: EditorClient, workspace: Path) -> None:
    """The server answers a document request right after the failure (and publishes diagnostics)."""
    uri = client.open(workspace / "Dockerfile", "FROM scratch\nCMD /app\n")
    await client.diagnostics_for(uri, 1)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(0, 6))
        ),
        20,
    )
    assert hover is None or isinstance(hover, lsp.Hover)


# -- opening terminals -------------------------------------------------------------------------------------


@pytest.mark.docker
async def test_open_debug_terminal_asks_the_opted_in_editor(editor: TerminalClient, live: Containers) -> None:
    target = live.run(DISTROLESS)

    result = await command(editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": target})

    assert result["opened"] is True and result["strategy"] == "sidecar"
    assert len(editor.terminals) == 1
    sent = editor.terminals[0]
    assert sent["argv"] == result["argv"]
    # argv[0] is the absolute path the server found (tests/lsp/test_terminal_argv.py: never the workspace's).
    assert sent["argv"][0] == shutil.which("docker") and sent["argv"][1] == "run"
    assert sent["argv"][-4:-2] == [TOOLBOX, "-c"]
    assert f"--pid=container:{container_id(target)}" in sent["argv"]
    assert target in sent["title"] and "/target" in sent["title"]
    assert editor.messages == []  # no fallback message when the editor opened the terminal
    assert exec_ids(target) == "null"


@pytest.mark.docker
async def test_other_clients_get_the_command_line_in_a_message(
    plain_editor: TerminalClient, live: Containers
) -> None:
    target = live.run(SHELL_APP)

    result = await command(plain_editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": f"docker://{target}"})

    assert result["opened"] is False and result["strategy"] == "exec"
    assert result["argv"] == [shutil.which("docker"), "exec", "-i", "-t", container_id(target), "/bin/sh"]
    assert plain_editor.terminals == []
    shown = [m.message for m in plain_editor.messages]
    assert any(shlex.join(result["argv"]) in m for m in shown), shown


@pytest.mark.docker
async def test_an_editor_that_cannot_open_the_terminal_gets_the_command_line(
    refusing_editor: TerminalClient, live: Containers
) -> None:
    target = live.run(DISTROLESS)

    result = await command(refusing_editor, Command.OPEN_DEBUG_TERMINAL.value, {"target": target})

    assert len(refusing_editor.terminals) == 1
    assert result["opened"] is False and result["error"] == "no terminals in this window"
    assert any(shlex.join(result["argv"]) in m.message for m in refusing_editor.messages)


@pytest.mark.docker
async def test_debug_command_and_list_targets(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    target = live.run(DISTROLESS)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "compose.yaml").write_text("services:\n  api:\n    build: .\n")
    labels = {
        "com.docker.compose.project.working_dir": str(tmp_path),
        "com.docker.compose.service": "api",
    }
    related = live.run(DISTROLESS, labels=labels)

    listing = await command(editor, Command.LIST_TARGETS.value, {"uri": (tmp_path / "Dockerfile").as_uri()})
    planned = await command(editor, Command.DEBUG_COMMAND.value, {"target": target, "strategy": "sidecar"})

    assert listing["errors"] == []
    assert listing["targets"][0]["name"] == related and listing["targets"][0]["related"] is True
    assert "compose service 'api'" in listing["targets"][0]["related_reason"]
    names = [t["name"] for t in listing["targets"]]
    assert target in names
    assert planned["strategy"] == "sidecar" and planned["notes"] and editor.terminals == []


@pytest.mark.docker
async def test_code_lens_on_the_final_from_counts_related_containers(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM busybox AS build\nRUN true\nFROM scratch\nCOPY --from=build /bin/busybox /httpd\n"
    )
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    labels = {"com.docker.compose.project.working_dir": str(tmp_path), "com.docker.compose.service": "web"}
    first = live.run(DISTROLESS, labels=labels)
    live.run(DISTROLESS, labels=labels)
    uri = editor.open(dockerfile)
    params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))

    lenses: list[lsp.CodeLens] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lenses = await asyncio.wait_for(editor.text_document_code_lens_async(params), 20) or []
        if any(lens.command and lens.command.title.startswith("Debug running container") for lens in lenses):
            break
        await asyncio.sleep(0.2)  # the first request starts the background listing; the refresh follows

    debug = [lens for lens in lenses if lens.command and lens.command.title.startswith("Debug running")]
    assert len(debug) == 1 and debug[0].command is not None
    assert debug[0].command.title == "Debug running container (2)"
    assert debug[0].range.start.line == 2  # the final FROM
    assert editor.code_lens_refreshes >= 1
    assert debug[0].command.command == "debugbox.client.openDebugTerminal"  # two: the extension's own pick
    assert list(debug[0].command.arguments or []) == [{"uri": uri}]
    ids = debug[0].data["targets"]
    assert f"docker://{container_id(first)[:12]}" in ids and len(ids) == 2


# -- engines misbehaving -----------------------------------------------------------------------------------


async def _until(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true"
        await asyncio.sleep(0.05)


async def _fails_clearly(client: TerminalClient, expected: str, target: str = "web") -> float:
    start = time.monotonic()
    with pytest.raises(JsonRpcException) as caught:
        await answers_within(
            within(TIMEOUT), command(client, Command.OPEN_DEBUG_TERMINAL.value, {"target": target})
        )
    elapsed = time.monotonic() - start
    assert expected in str(caught.value)
    assert any(expected in m.message for m in client.messages)  # the user is told, not only the caller
    assert client.terminals == []
    return elapsed


@pytest.mark.docker
async def test_engine_down_is_a_clear_error_and_the_server_keeps_serving(
    editor_engine_down: TerminalClient, tmp_path: Path
) -> None:
    await _fails_clearly(editor_engine_down, "the socket does not exist")
    listing = await command(editor_engine_down, Command.LIST_TARGETS.value, {})
    # Only Docker is down: a Podman service on the same machine may still list its containers.
    docker_targets = [t for t in listing["targets"] if t["runtime"] == "docker"]
    assert docker_targets == [] and "is the daemon running?" in listing["errors"][0]
    await still_serving(editor_engine_down, tmp_path)


@pytest.mark.docker
async def test_engine_hung_is_a_clear_error_within_the_timeout(
    editor_engine_hung: TerminalClient, tmp_path: Path
) -> None:
    hanging = HangingSocket(HANGING)
    try:
        elapsed = await _fails_clearly(editor_engine_hung, f"did not answer within {TIMEOUT:g} s")
        # While a listing waits on the hung engine, other requests are answered (the wait is off the loop).
        pending = asyncio.ensure_future(command(editor_engine_hung, Command.LIST_TARGETS.value, {}))
        await still_serving(editor_engine_hung, tmp_path)
        listing = await pending
    finally:
        hanging.close()
    assert elapsed >= TIMEOUT * 0.9  # it waited for the engine, for the configured time
    assert "did not answer" in listing["errors"][0]


@pytest.mark.docker
async def test_code_lens_never_waits_for_a_hung_engine(
    editor_engine_hung_patient: TerminalClient, tmp_path: Path
) -> None:
    editor = editor_engine_hung_patient
    hanging = HangingSocket(HANGING)
    try:
        dockerfile = tmp_path / "Dockerfile"
        dockerfile.write_text("FROM scratch\nCOPY app /app\n")
        uri = editor.open(dockerfile)
        params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        for attempt in range(3):
            # A lens that waited for the listing would answer at the engine deadline (PATIENT) at the earliest.
            lenses = await answers_within(PATIENT / 2, editor.text_document_code_lens_async(params))
            assert not any(lens.command and "Debug running" in lens.command.title for lens in lenses or [])
            if attempt == 0:  # the first request started the background listing: wait until it hangs
                await _until(lambda: hanging.accepted > 0, within(TIMEOUT))
        assert hanging.accepted > 0  # the later lenses were answered while the listing was stuck
    finally:
        hanging.close()


@pytest.mark.docker
async def test_target_gone_between_list_and_open(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    target = live.run(DISTROLESS)
    listing = await command(editor, Command.LIST_TARGETS.value, {})
    listed = next(t for t in listing["targets"] if t["name"] == target)
    live.remove([target])

    await _fails_clearly(editor, "no such container", target=listed["id"])
    await still_serving(editor, tmp_path)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({}, '"target" is required'),
        ({"target": 5}, '"target" must be a string, got 5'),
        # A valid, running-or-not target name: only the missing setting may refuse it (before the engine is asked).
        ({"target": "web", "privileged": True}, '"privileged" needs the setting debugbox.allowPrivileged'),
    ],
)
async def test_bad_arguments_are_invalid_params(
    editor_engine_down: TerminalClient, args: dict[str, Any], problem: str
) -> None:
    # On an engine that is down, so an argument that slipped through would fail differently (RequestFailed,
    # "the socket does not exist"), not pass as the expected InvalidParams.
    with pytest.raises(JsonRpcInvalidParams) as raised:
        await command(editor_engine_down, Command.DEBUG_COMMAND.value, args)
    assert raised.value.code == JsonRpcInvalidParams.CODE
    assert raised.value.message.startswith(f"{Command.DEBUG_COMMAND.value}: {problem}"), raised.value.message


async def test_a_target_that_is_not_a_container_name_is_refused(editor_engine_down: TerminalClient) -> None:
    with pytest.raises(JsonRpcException) as raised:
        await command(editor_engine_down, Command.DEBUG_COMMAND.value, {"target": "web; rm -rf /"})
    assert "'web; rm -rf /' is not a valid container name or ID" in raised.value.message
    assert "socket" not in raised.value.message  # refused by the name check, not by the engine
