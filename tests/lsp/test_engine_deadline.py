"""A Docker engine that trickles its answer a byte at a time, behind a real `debugbox lsp`: every
`debugbox.listTargets` is answered at the engine deadline with the reason, and the server's thread count does
not grow with each call (no worker is left stuck reading from the engine)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.deadlines import answers_within, outlasting, within
from tests.lsp.rawrpc import RawPeer
from tests.unit.edge.test_engine_api import _TricklingEngine

pytestmark = pytest.mark.lsp

TIMEOUT = 1.0
#: How long the engine would keep trickling: without an overall deadline each call would take this long.
TRICKLE = outlasting(TIMEOUT)


@pytest_asyncio.fixture
async def peer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[RawPeer]:
    with tempfile.TemporaryDirectory(prefix="dbx-") as folder:
        engine = _TricklingEngine(Path(folder) / "docker.sock", interval=0.05, total=TRICKLE)
        monkeypatch.setenv("DOCKER_HOST", f"unix://{folder}/docker.sock")
        monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        server = await RawPeer.start()
        result = await server.request(
            0,
            "initialize",
            {
                "capabilities": {},
                "rootUri": tmp_path.as_uri(),
                "processId": None,
                "initializationOptions": {"settings": {"docker": {"timeoutSeconds": TIMEOUT}}},
            },
        )
        assert "result" in result
        server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        try:
            yield server
        finally:
            await server.stop()
            engine.sock.close()


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def settled_threads(pid: int) -> int:
    """The thread count once it has stopped changing: a worker that is still finishing the cut-off call is
    not a stuck thread, one blocked on the trickling socket never goes away."""
    counts = [threads(pid)]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.25)
        counts.append(threads(pid))
        if len(counts) >= 4 and len(set(counts[-4:])) == 1:
            break
    return min(counts[-4:])


async def list_targets(peer: RawPeer, msg_id: int) -> dict[str, object]:
    params = {"command": "debugbox.listTargets", "arguments": [{"probe": False}]}
    answer = await answers_within(within(TIMEOUT), peer.request(msg_id, "workspace/executeCommand", params))
    result = answer["result"]
    assert isinstance(result, dict)
    errors = result["errors"]
    assert any(f"did not answer within {TIMEOUT:g} s" in str(e) for e in errors), result  # the deadline fired
    return result


async def test_a_trickling_engine_is_cut_off_and_leaves_no_stuck_threads(peer: RawPeer) -> None:
    await list_targets(peer, 1)
    baseline = settled_threads(peer.process.pid)
    calls = 8
    for msg_id in range(2, 2 + calls):
        await list_targets(peer, msg_id)
    # A worker stuck on the engine would add one thread per call (8). asyncio's default executor may start a
    # second idle worker when a call overlaps the previous one's cut-off: idle workers are bounded and reused.
    assert settled_threads(peer.process.pid) <= baseline + 2
    assert os.path.exists(f"/proc/{peer.process.pid}")
