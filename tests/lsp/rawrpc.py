"""A deliberately dumb JSON-RPC peer for sending what no well-behaved client library would: malformed params,
odd ids, invalid JSON. It frames messages by hand over the server's real stdin/stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tests.lsp.conftest import SERVER_COMMAND, WAIT_SECONDS


class RawPeer:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict[str, Any]] = []

    @classmethod
    async def start(cls) -> RawPeer:
        process = await asyncio.create_subprocess_exec(
            *SERVER_COMMAND,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=sys.stderr,
        )
        return cls(process)

    def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(json.dumps(message).encode())

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise EOFError("the server closed its stdout")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length:
                break
        message: dict[str, Any] = json.loads(await self.process.stdout.readexactly(length))
        self.received.append(message)
        return message

    async def response(self, msg_id: Any, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """Read until the response to `msg_id` arrives (answering nothing the server asks meanwhile)."""

        async def _wait() -> dict[str, Any]:
            while True:
                message = await self.read()
                if message.get("id") == msg_id and "method" not in message:
                    return message

        return await asyncio.wait_for(_wait(), timeout)

    async def request(self, msg_id: Any, method: str, params: Any) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await self.response(msg_id)

    async def initialize(self, root_uri: str | None = None) -> dict[str, Any]:
        result = await self.request(
            0, "initialize", {"capabilities": {}, "rootUri": root_uri, "processId": None}
        )
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return result

    async def stop(self) -> int:
        if self.process.returncode is None:
            try:
                await self.request("shutdown", "shutdown", None)
                self.send({"jsonrpc": "2.0", "method": "exit", "params": None})
                return await asyncio.wait_for(self.process.wait(), WAIT_SECONDS)
            except (TimeoutError, EOFError, ConnectionError):
                self.process.kill()
                await self.process.wait()
        return self.process.returncode if self.process.returncode is not None else -1
