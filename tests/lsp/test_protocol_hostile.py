"""Hostile bytes on the wire, over a real stdio pipe to `python -m debugbox lsp`.

- Malformed framing (a huge, negative or non-numeric `Content-Length`, a body without a header): the bad
  frame is dropped and the next request is answered; the server neither dies nor wedges.
- A lone surrogate in a document (`\\ud800` as a JSON escape in didOpen): the document is still analysed and
  its diagnostics published.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.lsp.rawrpc import RawPeer

pytestmark = pytest.mark.lsp

BAD_FRAMES = {
    "huge": b"Content-Length: 99999999999\r\n\r\n{}",
    "beyond-int64": b"Content-Length: 999999999999999999999999\r\n\r\n{}",
    "negative": b'Content-Length: -5\r\n\r\n{"jsonrpc": "2.0", "id": 7, "method": "shutdown"}',
    "non-numeric": b'Content-Length: ten\r\n\r\n{"jsonrpc": "2.0", "id": 7, "method": "shutdown"}',
    "zero": b"Content-Length: 0\r\n\r\n",
    "no-header": b'{"jsonrpc": "2.0", "id": 7, "method": "shutdown"}\r\n\r\n',
    "long-garbage": b"x" * 20_000 + b"\r\n\r\n",
}


@pytest_asyncio.fixture
async def peer(tmp_path: Path) -> AsyncIterator[RawPeer]:
    server = await RawPeer.start()
    await server.initialize(tmp_path.as_uri())
    yield server
    await server.stop()


def hover(uri: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}


@pytest.mark.parametrize("frame", list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
async def test_a_malformed_frame_does_not_stop_the_next_request(peer: RawPeer, frame: bytes) -> None:
    assert peer.process.stdin is not None
    peer.process.stdin.write(frame)
    uri = "file:///not-open/Dockerfile"
    assert await peer.request(1, "textDocument/hover", hover(uri)) == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": None,
    }
    # and again, to show the stream is in step (no half-read frame swallowed the first answer)
    assert await peer.request(2, "textDocument/hover", hover(uri)) == {
        "jsonrpc": "2.0",
        "id": 2,
        "result": None,
    }


async def test_bad_frames_glued_to_good_ones(peer: RawPeer) -> None:
    """A bad frame's body runs straight into the next header (no newline): the next message is still found."""
    assert peer.process.stdin is not None
    request = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "textDocument/hover",
        "params": hover("file:///x/Dockerfile"),
    }
    good = json.dumps(request).encode()
    peer.process.stdin.write(
        b"Content-Length: -1\r\n\r\n" + b"y" * 10_000 + b"Content-Length: %d\r\n\r\n%s" % (len(good), good)
    )
    assert (await peer.response(3)) == {"jsonrpc": "2.0", "id": 3, "result": None}


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("Dockerfile", 'FROM gcr.io/distroless/static\nLABEL note="\ud800"\n', "DBX101"),
        (
            "pod.yaml",
            'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "a\ud800"\nspec:\n  hostPID: true\n'
            "  containers:\n  - name: app\n    image: gcr.io/distroless/static\n",
            None,
        ),
    ],
)
async def test_a_lone_surrogate_does_not_disable_analysis(
    peer: RawPeer, tmp_path: Path, name: str, text: str, code: str | None
) -> None:
    uri = (tmp_path / name).as_uri()
    language = "dockerfile" if name == "Dockerfile" else "yaml"
    peer.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        }
    )
    while True:
        message = await peer.read()
        if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
            break
    diagnostics = message["params"]["diagnostics"]
    assert diagnostics, "no diagnostics: the analysis did not run"
    assert not any(
        "internal" in d["message"].lower() or "error in" in d["message"].lower() for d in diagnostics
    )
    if code is not None:
        assert code in [d.get("code") for d in diagnostics], diagnostics
    answer = await peer.request(5, "textDocument/hover", hover(uri))
    assert "result" in answer, answer
