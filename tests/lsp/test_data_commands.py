# ruff: noqa: F811 - the fixtures `editor` and `live` are imported from test_targets and named as parameters
"""Data in and out of a live container over a real stdio LSP connection: copies the server makes itself, and
the forward/capture terminals it asks the editor for — whose argv, run as the editor would run it, really
forwards a loopback-only port and cleans up when the terminal closes (SIGHUP)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.integration.docker.engine import DISTROLESS, TOOLBOX, Containers, docker
from tests.lsp.test_targets import TerminalClient, command, editor, live  # noqa: F401 - fixtures

pytestmark = pytest.mark.docker


async def test_copies_out_and_in_are_made_by_the_server(
    editor: TerminalClient,
    live: Containers,
    tmp_path: Path,
) -> None:
    name = live.run(DISTROLESS)
    dest = tmp_path / "page.html"
    got = await command(
        editor,
        Command.COPY_FROM_TARGET.value,
        {"target": name, "path": "/www/index.html", "dest": dest.as_uri()},
    )
    assert got["files"] == 1 and dest.read_bytes() == b"hello from distroless-app\n"
    src = tmp_path / "über config.bin"
    src.write_bytes(os.urandom(70_000))
    sent = await command(
        editor, Command.COPY_TO_TARGET.value, {"target": name, "src": src.as_uri(), "path": "/www/"}
    )
    assert sent["bytes"] == 70_000
    back = tmp_path / "back.bin"
    await command(
        editor,
        Command.COPY_FROM_TARGET.value,
        {"target": name, "path": f"/www/{src.name}", "dest": back.as_uri()},
    )
    assert back.read_bytes() == src.read_bytes()
    # A file that exists in the target: a refusal marked for the editor to ask "Replace?" (and shown by nobody).
    with pytest.raises(JsonRpcException, match="exists in the target") as exists:
        await command(
            editor, Command.COPY_TO_TARGET.value, {"target": name, "src": src.as_uri(), "path": "/www/"}
        )
    assert exists.value.data == {"exists": True}
    # The user's file is not replaced unless the request says so: a RequestFailed that says how, shown once by
    # the server without the command's name, and marked as shown so that the editor does not repeat it.
    with pytest.raises(JsonRpcException, match="--force") as refused:
        await command(
            editor,
            Command.COPY_FROM_TARGET.value,
            {"target": name, "path": "/www/index.html", "dest": back.as_uri()},
        )
    assert back.read_bytes() == src.read_bytes()
    assert refused.value.data == {"shown": True}
    assert (
        refused.value.message
        == f"{Command.COPY_FROM_TARGET.value}: {back} exists: pass --force to replace it"
    )
    shown = await editor.wait_for(lambda: [m for m in editor.messages if "--force" in m.message] or None)
    assert [m.message for m in shown] == [f"debugbox: {back} exists: pass --force to replace it"]
    assert shown[0].type == lsp.MessageType.Error
    assert not [m for m in editor.messages if "exists in the target" in m.message]


async def test_bad_arguments_are_invalid_params(editor: TerminalClient) -> None:
    for name, args in (
        (Command.FORWARD_PORT.value, {"target": "web", "port": 70000}),
        (Command.FORWARD_PORT.value, {"target": "web", "port": "80"}),
        (Command.CAPTURE_TRAFFIC.value, {"target": "web", "output": "file:///tmp/x.pcap", "filter": "-w /x"}),
        (Command.COPY_FROM_TARGET.value, {"target": "web", "path": "etc/hosts", "dest": "file:///tmp/x"}),
        (Command.COPY_TO_TARGET.value, {"target": "web", "path": "/etc/", "src": "untitled:Untitled-1"}),
    ):
        with pytest.raises(JsonRpcException) as caught:
            await command(editor, name, args)
        assert caught.value.code == -32602, (name, caught.value)
        assert name in str(caught.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_forward_port_opens_a_terminal_whose_command_forwards_and_cleans_up(
    editor: TerminalClient,
    live: Containers,
) -> None:
    name = live.run(
        DISTROLESS, "-f", "-p", "127.0.0.1:9090", "-h", "/www", options=("--entrypoint", "/httpd")
    )
    local = _free_port()
    result = await command(editor, Command.FORWARD_PORT.value, {"target": name, "port": 9090, "local": local})
    assert result["opened"] is True and result["url"] == f"http://localhost:{local}"
    terminal: dict[str, Any] = editor.terminals[-1]
    argv = terminal["argv"]
    assert os.path.isabs(argv[0]) and argv[1:4] == ["-P", "-m", "debugbox"]
    assert argv[4:] == ["forward", name, "9090", "--local", str(local), "--image", TOOLBOX, "--timeout", "1"]
    # Run it as the editor's terminal would, from a folder that is not the server's.
    env = {**os.environ, **(terminal.get("env") or {})}
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "forwarding" in line, line
        helper = line.split("(helper ")[1].split(")")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=30) as resp:
            assert resp.read() == b"hello from distroless-app\n"
    finally:
        proc.send_signal(signal.SIGHUP)  # what closing the terminal does
        _, err = proc.communicate(timeout=60)
    assert "helper removed" in err, err
    deadline = time.monotonic() + 30
    while docker("ps", "-aq", "--filter", f"name={helper}").strip() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not docker("ps", "-aq", "--filter", f"name={helper}").strip()


async def test_forward_to_a_local_port_in_use_is_refused_before_its_terminal_opens(
    editor: TerminalClient,
    live: Containers,
) -> None:
    """The local port defaults to the container's (8080, 3000…), which the user's own dev server often holds.
    The forward failed only inside its terminal while the editor said "forwarding http://localhost:PORT" and
    offered to open it: the other program's page. Refused first, shown once, and no terminal opens."""
    name = live.run(
        DISTROLESS, "-f", "-p", "127.0.0.1:9090", "-h", "/www", options=("--entrypoint", "/httpd")
    )
    with socket.create_server(("127.0.0.1", 0)) as busy:
        local = busy.getsockname()[1]
        opened = len(editor.terminals)
        with pytest.raises(JsonRpcException, match="choose another local port") as refused:
            await command(editor, Command.FORWARD_PORT.value, {"target": name, "port": 9090, "local": local})
        assert refused.value.data == {"shown": True}
        assert f"cannot listen on 127.0.0.1:{local}" in refused.value.message
        assert len(editor.terminals) == opened


async def test_capture_traffic_opens_a_terminal_running_the_capture_cli(
    editor: TerminalClient,
    live: Containers,
    tmp_path: Path,
) -> None:
    out = tmp_path / "web.pcap"
    result = await command(
        editor,
        Command.CAPTURE_TRAFFIC.value,
        {"target": "web", "output": out.as_uri(), "filter": "tcp port 8080", "duration": 5},
    )
    assert result["opened"] is True and result["output"] == out.as_uri()
    argv = editor.terminals[-1]["argv"]
    assert argv[4:] == [
        "capture",
        "web",
        "-o",
        str(out),
        "--image",
        TOOLBOX,
        "--timeout",
        "1",
        "--filter",
        "tcp port 8080",
        "--duration",
        "5",
    ]


async def test_forward_and_capture_terminals_carry_the_editors_timeout_of_the_targets_kind(
    editor: TerminalClient, tmp_path: Path
) -> None:
    """The CLI in the terminal reads no settings: on its defaults, a pod whose cluster the user gave a longer
    timeout was cut after two silent calls of 10 s, a container's engine waited 5 s where the user said 1."""
    out = tmp_path / "pod.pcap"
    pod = "k8s://ctx/shop/web-1/app"
    await command(editor, Command.CAPTURE_TRAFFIC.value, {"target": pod, "output": out.as_uri()})
    capture = editor.terminals[-1]["argv"]
    await command(editor, Command.FORWARD_PORT.value, {"target": pod, "port": 8080, "local": _free_port()})
    forward = editor.terminals[-1]["argv"]
    # The editor's settings here: docker.timeoutSeconds 1 (OPTIONS), kubernetes.timeoutSeconds its default.
    for argv in (capture, forward):
        assert argv[argv.index("--timeout") + 1] == "10", argv


async def test_a_destination_through_a_linked_folder_leaving_the_workspace_is_refused(
    editor: TerminalClient,
    live: Containers,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A cloned repository holds `captures -> ~/.config/autostart` (any folder outside it); the user picks
    `captures/…` in the save dialog. The copy's `cp -r` rules and the capture's `O_NOFOLLOW` look at the last
    name only: the file landed outside the workspace. Refused by the workspace's one link rule, naming the link;
    nothing is written and no terminal opens."""
    outside = tmp_path_factory.mktemp("outside")
    (tmp_path / "captures").symlink_to(outside, target_is_directory=True)
    name = live.run(DISTROLESS)
    opened = len(editor.terminals)
    for cmd, args in (
        (
            Command.COPY_FROM_TARGET.value,
            {
                "target": name,
                "path": "/www/index.html",
                "dest": (tmp_path / "captures" / "page.html").as_uri(),
            },
        ),
        (
            Command.COPY_FROM_TARGET.value,
            {"target": name, "path": "/www", "dest": (tmp_path / "captures").as_uri()},
        ),
        (
            Command.CAPTURE_TRAFFIC.value,
            {"target": name, "output": (tmp_path / "captures" / "web.pcap").as_uri()},
        ),
    ):
        with pytest.raises(JsonRpcException, match="outside") as refused:
            await command(editor, cmd, args)
        assert refused.value.data == {"shown": True}, cmd
    assert list(outside.iterdir()) == []
    assert len(editor.terminals) == opened
    # A folder link that stays inside the workspace is a place the user may choose.
    (tmp_path / "inside").mkdir()
    (tmp_path / "here").symlink_to(tmp_path / "inside", target_is_directory=True)
    got = await command(
        editor,
        Command.COPY_FROM_TARGET.value,
        {"target": name, "path": "/www/index.html", "dest": (tmp_path / "here" / "page.html").as_uri()},
    )
    assert got["files"] == 1 and (tmp_path / "inside" / "page.html").is_file()


async def test_a_cancelled_download_stops_and_leaves_no_partial_file(
    editor: TerminalClient,
    live: Containers,
    tmp_path: Path,
) -> None:
    """A "Download…" of a large file, then the editor's Cancel (`$/cancelRequest`). pygls answered the cancel at
    once while the copy's worker thread went on writing the user's file to its end. The copy stops, removes what
    it wrote, and only then answers: a failure marked cancelled (nothing for the editor to show)."""
    # 4 GiB read as zeros from a sparse file: the archive streams every byte, far longer than the cancel takes.
    script = "dd if=/dev/zero of=/big bs=1M count=0 seek=4096 && echo small > /small && exec sleep 3600"
    name = live.run(TOOLBOX, "-c", script)
    deadline = time.monotonic() + 30
    while "small" not in docker("exec", name, "cat", "/small", check=False):
        assert time.monotonic() < deadline, "the big file was not made"
        time.sleep(0.2)
    folder = tmp_path / "downloads"
    folder.mkdir()
    dest = folder / "big.bin"
    params = lsp.ExecuteCommandParams(
        command=Command.COPY_FROM_TARGET.value,
        arguments=[{"target": name, "path": "/big", "dest": dest.as_uri()}],
    )
    answer = asyncio.ensure_future(
        editor.protocol.send_request_async(lsp.WORKSPACE_EXECUTE_COMMAND, params, msg_id="big-download")
    )
    deadline = time.monotonic() + 60
    while not (dest.exists() and dest.stat().st_size > 0):
        assert time.monotonic() < deadline, "the download never started writing"
        await asyncio.sleep(0.05)
    editor.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="big-download"))
    with pytest.raises(JsonRpcException) as stopped:
        await asyncio.wait_for(answer, 60)
    assert stopped.value.data == {"cancelled": True}, stopped.value
    assert "cancelled" in str(stopped.value)
    assert list(folder.iterdir()) == []  # no partial file, no temporary one
    # Nothing is shown for the user's own Cancel.
    assert not [m for m in editor.messages if "cancelled" in m.message]
    # The server is not busy with the abandoned copy: the next download of the same place works.
    got = await command(
        editor, Command.COPY_FROM_TARGET.value, {"target": name, "path": "/small", "dest": dest.as_uri()}
    )
    assert got["files"] == 1 and dest.read_bytes() == b"small\n"
