# ruff: noqa: F811 - the fixtures `editor` and `live` are imported from test_targets and named as parameters
"""The read-only file view's requests over a real stdio LSP connection, on the real Docker engine, against the
distroless-like target (no shell, no `ls`, no `tar` inside): stat, directory listings and file contents come
through the engine's archive API — a binary file, non-ASCII names, a folder with a space — and nothing ever
runs inside the target (its exec list stays empty)."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
from debugbox.core.settings import Settings
from debugbox.core.targets.file_view import MAX_FILE_BYTES
from debugbox.core.wire import Command
from debugbox.edge import file_view
from debugbox.edge.service import resolve_engine_container
from pygls.exceptions import JsonRpcException

from tests.integration.docker.engine import DISTROLESS, Containers, container_id, exec_ids
from tests.lsp.test_targets import TerminalClient, command, editor, live  # noqa: F401 - fixtures

pytestmark = pytest.mark.docker

STAT = Command.STAT_TARGET_PATH.value
READ_DIRECTORY = Command.READ_TARGET_DIRECTORY.value
READ_FILE = Command.READ_TARGET_FILE.value
FOLDER = "dir with space"
BINARY = "naïve ünïcode — файл.bin"


def plant(name: str, tmp_path: Path) -> bytes:
    """A folder with a space holding a binary file with a non-ASCII name, put in by the engine's own CLI."""
    data = os.urandom(200_000) + b"\x00\r\n\xff"
    folder = tmp_path / FOLDER
    folder.mkdir()
    (folder / BINARY).write_bytes(data)
    (folder / "sub").mkdir()
    subprocess.run(["docker", "cp", str(folder), f"{name}:/"], check=True, capture_output=True, timeout=60)
    return data


async def test_stat_list_and_read_a_distroless_targets_files(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    name = live.run(DISTROLESS)
    data = plant(name, tmp_path)

    root = await command(editor, READ_DIRECTORY, {"target": name, "path": "/"})
    names = {e["name"]: e["type"] for e in root["entries"]}
    assert names["www"] == "directory" and names["httpd"] == "file" and names[FOLDER] == "directory"
    assert root["truncated"] is False

    folder = await command(editor, READ_DIRECTORY, {"target": name, "path": f"/{FOLDER}"})
    assert {(e["name"], e["type"]) for e in folder["entries"]} == {(BINARY, "file"), ("sub", "directory")}
    assert [e["size"] for e in folder["entries"] if e["name"] == BINARY] == [len(data)]

    stat = await command(editor, STAT, {"target": name, "path": f"/{FOLDER}/{BINARY}"})
    assert stat["type"] == "file" and stat["size"] == len(data) and stat["name"] == BINARY
    assert stat["mtime"] > 1_600_000_000

    got = await command(editor, READ_FILE, {"target": name, "path": f"/{FOLDER}/{BINARY}"})
    assert base64.b64decode(got["data"]) == data and got["size"] == len(data)
    page = await command(editor, READ_FILE, {"target": name, "path": "/www/index.html"})
    assert base64.b64decode(page["data"]) == b"hello from distroless-app\n"

    assert exec_ids(name) in ("null", "[]")  # nothing ran inside the target


async def test_missing_paths_directories_and_big_files_say_why(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    name = live.run(DISTROLESS)
    with pytest.raises(JsonRpcException, match="does not exist in the target"):
        await command(editor, STAT, {"target": name, "path": "/no/such"})
    with pytest.raises(JsonRpcException, match="is a directory in the target"):
        await command(editor, READ_FILE, {"target": name, "path": "/www"})
    with pytest.raises(JsonRpcException, match="not a directory in the target"):
        await command(editor, READ_DIRECTORY, {"target": name, "path": "/httpd"})
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (MAX_FILE_BYTES + 1))
    subprocess.run(
        ["docker", "cp", str(big), f"{name}:/big.bin"], check=True, capture_output=True, timeout=60
    )
    with pytest.raises(JsonRpcException, match="download it instead"):
        await command(editor, READ_FILE, {"target": name, "path": "/big.bin"})
    with pytest.raises(JsonRpcException) as relative:
        await command(editor, STAT, {"target": name, "path": "etc"})
    assert relative.value.code == -32602


async def test_a_symbolic_link_loop_in_the_target_is_one_sentence_not_a_traceback(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    """`a -> b -> a` in the target: both engines answer 500 to the stat. The view answered an internal error
    carrying the server's traceback; now a RequestFailed naming the path and the likely cause."""
    name = live.run(DISTROLESS)
    links = tmp_path / "links"
    links.mkdir()
    (links / "a").symlink_to("b")
    (links / "b").symlink_to("a")
    (links / "to-a").symlink_to("/links/a")
    subprocess.run(["docker", "cp", str(links), f"{name}:/"], check=True, capture_output=True, timeout=60)
    listed = await command(editor, READ_DIRECTORY, {"target": name, "path": "/links"})
    assert {e["name"]: e["type"] for e in listed["entries"]} == {
        "a": "symlink",
        "b": "symlink",
        "to-a": "symlink",
    }
    for cmd, path in ((STAT, "/links/a"), (READ_FILE, "/links/b"), (READ_DIRECTORY, "/links/to-a")):
        with pytest.raises(JsonRpcException) as caught:
            await command(editor, cmd, {"target": name, "path": path})
        assert caught.value.code == -32803, (cmd, caught.value)  # RequestFailed, not an internal error
        assert "traceback" not in (caught.value.data or {})
        assert f"cannot resolve {path} in the target" in str(caught.value) and "loops" in str(caught.value)


def test_listing_caps_stop_reading_and_say_the_listing_is_incomplete(
    live: Containers, tmp_path: Path
) -> None:
    """At the edge, with small caps: an entry cap and a byte cap both end the read with `truncated`."""
    name = live.run(DISTROLESS)
    plant(name, tmp_path)
    backend, _ = resolve_engine_container(Settings(), name, "the file view")
    client = backend.client
    cid = container_id(name)
    full = file_view.read_directory(client, cid, "/")
    assert not full.truncated and len(full.entries) >= 4
    few = file_view.read_directory(client, cid, "/", max_entries=2)
    assert few.truncated and len(few.entries) == 2
    # The binary folder's archive is ~200 kB: a 10 kB byte cap ends it after the first headers.
    cut = file_view.read_directory(client, cid, f"/{FOLDER}", max_bytes=10_000)
    assert cut.truncated


async def test_files_with_control_characters_in_their_names_open_and_download(
    editor: TerminalClient, live: Containers, tmp_path: Path
) -> None:
    """A hostile image ships `a<newline>b` and `e<ESC>[2Jx`: the view listed them, but reading or downloading
    one was refused ("holds control characters"), so they could not be opened. A path from a listing is data
    (a query parameter of the archive API): only NUL is refused there."""
    name = live.run(DISTROLESS)
    folder = tmp_path / "odd"
    folder.mkdir()
    files = {"a\nb": b"newline\n", "e\x1b[2Jx": b"escape\n", "t\tu\x7f": b"tab and DEL\n"}
    for file, data in files.items():
        (folder / file).write_bytes(data)
    subprocess.run(["docker", "cp", str(folder), f"{name}:/"], check=True, capture_output=True, timeout=60)

    listing = await command(editor, READ_DIRECTORY, {"target": name, "path": "/odd"})
    assert {e["name"] for e in listing["entries"]} == set(files)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for i, (file, data) in enumerate(files.items()):
        stat = await command(editor, STAT, {"target": name, "path": f"/odd/{file}"})
        assert stat["name"] == file and stat["size"] == len(data)
        got = await command(editor, READ_FILE, {"target": name, "path": f"/odd/{file}"})
        assert base64.b64decode(got["data"]) == data
        dest = downloads / f"{i}.bin"
        copied = await command(
            editor,
            Command.COPY_FROM_TARGET.value,
            {"target": name, "path": f"/odd/{file}", "dest": dest.as_uri()},
        )
        assert copied["files"] == 1 and dest.read_bytes() == data
    with pytest.raises(JsonRpcException, match="control characters"):
        await command(editor, READ_FILE, {"target": name, "path": "/odd/a\x00b"})
