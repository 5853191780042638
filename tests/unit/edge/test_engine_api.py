"""The Engine API client and the Docker backend against a scripted engine on a real unix socket.

Covers what the real Docker engine in tests/integration/docker cannot be made to do: answer 500 to an archive
stat (then image knowledge decides, instead of "no shell"), send malformed JSON, or return errors.
"""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from debugbox.core.errors import InvalidTarget, RuntimeUnavailable, TargetNotFound
from debugbox.core.settings import Settings
from debugbox.core.targets.model import PlanOptions
from debugbox.edge.docker_backend import EngineBackend
from debugbox.edge.engine_api import Endpoint, EngineClient

from tests.deadlines import outlasting, returns_within, within
from tests.raw_engine import RawEngine

Route = Callable[[str, str], tuple[int, dict[str, str], bytes]]
CID = "a1" * 32


def inspect_body(image: str, status: str = "running", user: str = "") -> bytes:
    config = {"Image": image, "User": user, "Labels": {}}
    data = {"Id": CID, "Name": "/web", "Created": "2026-11-29T07:00:00Z", "State": {"Status": status}}
    return json.dumps({**data, "Config": config}).encode()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def engine() -> Iterator[Callable[[Route], Endpoint]]:
    servers: list[_Server] = []
    folder = tempfile.mkdtemp(prefix="dbx-api-")

    def start(route: Route) -> Endpoint:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                status, headers, body = route(self.command, self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        path = Path(folder) / f"e{len(servers)}.sock"
        server = _Server(str(path), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Endpoint(f"unix://{path}", "test")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def backend(endpoint: Endpoint) -> EngineBackend:
    return EngineBackend("docker", endpoint, ("docker",), Settings(toolbox_image="busybox:musl"))


def test_an_engine_that_cannot_stat_falls_back_to_image_knowledge(
    engine: Callable[[Route], Endpoint],
) -> None:
    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/containers/web/json") or path.startswith(f"/containers/{CID}/json"):
            return 200, {}, inspect_body("alpine:3.20")
        return 500, {}, b'{"message": "archive not supported"}'

    b = backend(engine(route))
    target = b.resolve("web")
    assert target.recommended == "exec" and target.extra["shell"] == "/bin/sh"
    plan = b.plan(target, PlanOptions())
    assert plan.argv == ("docker", "exec", "-i", "-t", CID, "/bin/sh")


def test_a_stat_that_says_missing_is_believed_over_image_knowledge(
    engine: Callable[[Route], Endpoint],
) -> None:
    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if "/json" in path:
            return 200, {}, inspect_body("alpine:3.20")  # the table says alpine has a shell…
        return 404, {}, b""  # …but this container's /bin/sh was deleted

    target = backend(engine(route)).resolve("web")
    assert target.recommended == "sidecar"


def test_symlinked_shell_is_followed(engine: Callable[[Route], Endpoint]) -> None:
    def stat(name: str, mode: int, link: str = "") -> dict[str, str]:
        raw = json.dumps({"name": name, "mode": mode, "linkTarget": link}).encode()
        return {"X-Docker-Container-Path-Stat": base64.b64encode(raw).decode()}

    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if "/json" in path:
            return 200, {}, inspect_body("scratch-thing:1")
        if "path=%2Fbin%2Fsh" in path:
            return 200, stat("sh", (1 << 27) | 0o777, "busybox"), b""  # relative link
        if "path=%2Fbin%2Fbusybox" in path:
            return 200, stat("busybox", 0o755), b""
        return 404, {}, b""

    target = backend(engine(route)).resolve("web")
    assert target.recommended == "exec" and target.extra["shell"] == "/bin/sh"


def test_errors_and_malformed_answers(engine: Callable[[Route], Endpoint]) -> None:
    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/containers/json"):
            return 200, {}, b"{not json"
        if path.startswith("/containers/gone/json"):
            return 404, {}, b'{"message": "No such container: gone"}'
        return 500, {}, b'{"message": "storage driver exploded"}'

    client = EngineClient(engine(route), 2.0)
    with pytest.raises(RuntimeUnavailable, match="malformed JSON"):
        client.containers()
    with pytest.raises(TargetNotFound, match="no such container: gone"):
        client.inspect("gone")
    with pytest.raises(RuntimeUnavailable, match=r"500 .*storage driver exploded"):
        client.inspect("other")


def test_a_hostile_engine_cannot_put_an_option_into_an_argv(engine: Callable[[Route], Endpoint]) -> None:
    """An engine answering `Id: "--privileged"` (or a name like `-v`) is refused before any argv is built."""

    def summary(cid: str, name: str) -> dict[str, Any]:
        return {"Id": cid, "Names": [name], "Image": "alpine:3.20", "State": "running", "Labels": {}}

    listing = [summary("--privileged", "/evil"), summary("b2" * 32, "/-v"), summary(CID, "/web")]

    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/containers/json"):
            return 200, {}, json.dumps(listing).encode()
        if path.startswith("/containers/web/json"):
            body = json.loads(inspect_body("alpine:3.20"))
            return 200, {}, json.dumps({**body, "Id": "--privileged"}).encode()
        if path.startswith("/containers/named/json"):
            body = json.loads(inspect_body("alpine:3.20"))
            return 200, {}, json.dumps({**body, "Name": "/--rm"}).encode()
        return 404, {}, b""

    b = backend(engine(route))
    assert [t.extra["container_id"] for t in b.list_targets(probe=False)] == [CID]
    with pytest.raises(InvalidTarget, match="--privileged"):
        b.resolve("web")
    with pytest.raises(InvalidTarget, match="--rm"):
        b.resolve("named")


class _TricklingEngine(RawEngine):
    """An engine that answers headers, then one byte of the body every `interval` s: every recv succeeds."""

    def __init__(self, path: Path, interval: float, total: float) -> None:
        self.interval, self.total = interval, total
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        size = int(self.total / self.interval)
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            for _ in range(size):
                conn.sendall(b" ")
                time.sleep(self.interval)
        except OSError:
            pass
        finally:
            conn.close()


def test_an_engine_trickling_bytes_is_cut_off_at_the_deadline() -> None:
    timeout = 1.0
    with tempfile.TemporaryDirectory(prefix="dbx-") as folder:
        path = Path(folder) / "trickle.sock"
        # Every recv succeeds: without the overall deadline the call takes the whole trickle, past `within`.
        server = _TricklingEngine(path, interval=0.05, total=outlasting(timeout))
        client = EngineClient(Endpoint(f"unix://{path}", "test"), timeout)
        try:
            with pytest.raises(RuntimeUnavailable, match=f"did not answer within {timeout:g} s"):
                returns_within(within(timeout), client.containers)
        finally:
            server.sock.close()


def _nonroot_route(top: tuple[int, bytes], user: str = "65532") -> Route:
    def route(method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        if "/top" in path:
            assert "ps_args=-o+pid%2Cuid%2Cgid" in path  # Docker: host `ps`, the host PID and effective ids
            return top[0], {}, top[1]
        if "/json" in path:
            data = json.loads(inspect_body("distroless-app:test", user=user))
            data["State"]["Pid"] = 4242
            return 200, {}, json.dumps(data).encode()
        return 404, {}, b""  # no shell: the sidecar

    return route


def test_the_engines_top_gives_the_sidecar_the_targets_uid_and_gid(
    engine: Callable[[Route], Endpoint],
) -> None:
    answer = {"Titles": ["PID", "UID", "GID"], "Processes": [["4242", "65532", "0"]]}
    b = backend(engine(_nonroot_route((200, json.dumps(answer).encode()))))
    plan = b.plan(b.resolve("web"), PlanOptions())
    assert "--user=65532:0" in plan.argv and "--cap-add=SYS_PTRACE" not in plan.argv


@pytest.mark.parametrize(
    ("top", "said"),
    [
        ((500, b'{"message": "ps: executable file not found"}'), "could not be read"),
        ((200, b'{"Titles": ["PID", "UID", "GID"], "Processes": [["4242", "nonroot", "0"]]}'), "in numbers"),
        (
            (200, b'{"Titles": ["PID", "UID", "GID"], "Processes": [["4242", "165532", "165536"]]}'),
            "user namespace",
        ),
    ],
)
def test_without_the_engines_ids_the_plan_falls_back_and_says_why(
    engine: Callable[[Route], Endpoint], top: tuple[int, bytes], said: str
) -> None:
    b = backend(engine(_nonroot_route(top)))
    plan = b.plan(b.resolve("web"), PlanOptions())
    assert "--user=65532" in plan.argv and "--cap-add=SYS_PTRACE" not in plan.argv  # today's logic
    (note,) = [n for n in plan.notes if "the session's gid follows the toolbox's user database" in n]
    assert said in note and "\n" not in note
    assert any("its gid is the toolbox's guess" in n for n in plan.notes)  # the identity line says it too


def test_a_named_user_without_the_engines_ids_gets_root_and_the_note_says_so(
    engine: Callable[[Route], Endpoint],
) -> None:
    b = backend(engine(_nonroot_route((500, b'{"message": "no ps"}'), user="nonroot")))
    plan = b.plan(b.resolve("web"), PlanOptions())
    assert "--cap-add=SYS_PTRACE" in plan.argv and not any(a.startswith("--user") for a in plan.argv)
    assert any("could not be read" in n and "root with SYS_PTRACE instead" in n for n in plan.notes)
