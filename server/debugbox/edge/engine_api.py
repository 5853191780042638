"""A small, blocking client for the Docker Engine API (also served by Podman's compatible socket), stdlib
only: `unix://`, `tcp://` (with TLS: CA, client certificate and key, as the docker CLI takes them) and `ssh://`
(the `ssh` program running `docker system dial-stdio`, or `podman system dial-stdio` for Podman, on the far side,
`edge/ssh_transport.py`).

Why not the docker SDK: debugbox needs a handful of calls (list, inspect, archive stat and stream, ping). Over a
unix socket they take about a millisecond each, with no import cost (the SDK plus requests/urllib3 costs ~150 ms
to import; even `http.client` costs ~12 ms, so the short calls on a unix socket use `engine_http.py` and
`http.client` is imported only for streams and the other transports) and with exact control of the one thing
that matters most here: every call carries a socket timeout and an overall deadline, so a daemon that accepts
and never answers becomes `RuntimeUnavailable` after `timeout` seconds instead of a hang. The SDK's remote
transports lose exactly that (see docs/architecture.md, "Remote engines"). A fresh connection per call keeps it
thread-safe (calls run in worker threads off the event loop).

Size: over 400 lines because every engine call shares one failure path (`_failures`) and one deadline;
the transports live elsewhere (`ssh_transport.py`), the callers in the backends.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlparse

from debugbox.core.errors import AmbiguousTarget, RuntimeUnavailable, TargetNotFound
from debugbox.core.records import record
from debugbox.edge.engine_http import Answer, BadAnswer, exchange, send_request

if TYPE_CHECKING:
    import http.client
    import ssl

    from _typeshed import ReadableBuffer, WriteableBuffer

_SEND_STEP = 8 * 1024 * 1024
"""An upload's file goes to the socket in steps of this size: each is one `sendfile` loop in the kernel, and
between them the caller's progress line moves."""

_MAX_BODY = 32 * 1024 * 1024
"""A `/containers/json` answer for thousands of containers fits; anything bigger is not an engine talking."""


@record
class TlsFiles:
    """TLS for a `tcp://` engine as the docker CLI takes it: PEM files, and whether to verify the engine."""

    origin: str
    """Where the files are, for messages: `DOCKER_CERT_PATH /x`, `the TLS files of context NAME`."""
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True

    def context(self) -> ssl.SSLContext:
        """The client's SSL context; RuntimeUnavailable (one sentence) when a file is missing or unusable."""
        import ssl

        try:
            ctx = ssl.create_default_context(cafile=self.ca)
            if not self.verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if self.cert:
                ctx.load_cert_chain(self.cert, self.key)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise RuntimeUnavailable(
                f"cannot use {self.origin} for TLS: {getattr(exc, 'strerror', None) or exc} "
                "(ca.pem, cert.pem and key.pem must be readable PEM files)"
            ) from exc
        return ctx


@record
class Endpoint:
    """Where an engine listens: `unix:///path`, `tcp://host:port` (optionally TLS) or `ssh://[user@]host`."""

    url: str
    source: str = "default"
    """Where it came from, for messages: `DOCKER_HOST`, `context NAME`, `default`, `podman socket`."""
    tls: TlsFiles | None = None
    problem: str = ""
    """Why no engine can be asked here (a configured context that does not exist), said at the first call."""

    @property
    def label(self) -> str:
        return f"{self.url} ({self.source})"

    def socket_path(self) -> str:
        """The socket's path of a `unix://` endpoint, else ""."""
        # Not urlparse: it refuses a "[" in what it takes for a host ("Invalid IPv6 URL"); a path may hold one.
        return self.url[len("unix://") :] if self.url.startswith("unix://") else ""


def _is_socket(path: str) -> bool:
    """Whether `path` is a socket; True when that cannot be told (the message then stays the general one)."""
    import os
    import stat

    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return True


def unix_socket(path: str, timeout: float, *, deadline: float | None = None) -> socket.socket:
    """A stream socket connected to `path`, every operation bounded by `timeout`; with `deadline` (a
    `time.monotonic()` value), the whole connection's life is bounded by it too (`_DeadlineSocket`)."""
    if deadline is None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
    else:
        sock = _DeadlineSocket(timeout, deadline)
    try:
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


class _DeadlineSocket(socket.socket):
    """A unix stream socket whose connect, sends and receives each wait at most `timeout` and never past
    `deadline` (`time.monotonic()`): none starts once it has passed (TimeoutError), and each one's timeout is
    what is left when less is. That bounds a whole short call, an engine trickling a byte at a time included,
    without `_deadline`'s timer thread, whose start cost 0.4 to 0.8 ms of every call (seven calls before each
    `debugbox shell` runs `docker`)."""

    def __init__(self, timeout: float, deadline: float) -> None:
        super().__init__(socket.AF_UNIX, socket.SOCK_STREAM)
        self._step = timeout
        self._deadline = deadline

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the call's deadline passed")
        self.settimeout(min(self._step, left))

    def connect(self, address: Any) -> None:
        self._arm()
        super().connect(address)

    def sendall(self, data: ReadableBuffer, flags: int = 0) -> None:
        self._arm()
        super().sendall(data, flags)

    def send(self, data: ReadableBuffer, flags: int = 0) -> int:
        self._arm()
        return super().send(data, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return super().recv_into(buffer, nbytes, flags)


def _unix_connection(path: str, timeout: float) -> http.client.HTTPConnection:
    """An `http.client` connection over a unix socket, for streams (imports http.client: not on the short
    calls' path, see `engine_http.py`)."""
    import http.client

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = unix_socket(path, timeout)

    return UnixConnection("localhost", timeout=timeout)


def _transport_errors() -> tuple[type[Exception], ...]:
    """What a call may fail with: the socket's errors, a malformed answer, and `http.client`'s own (when it
    was used: it is imported only by the calls that need it)."""
    loaded = sys.modules.get("http.client")
    return (OSError, BadAnswer, loaded.HTTPException) if loaded else (OSError, BadAnswer)


class ShortSource(Exception):
    """An upload's file held fewer bytes than announced (it changed while it was sent): the upload was cut."""


class StatUnsupported(Exception):
    """The engine cannot stat paths in containers (an answer other than 200 or 404)."""


@record
class Response:
    """An engine's answer: status, headers (names lower-cased) and the whole body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class EngineClient:
    """Blocking calls to one engine; each raises RuntimeUnavailable within about `timeout` s on trouble."""

    def __init__(self, endpoint: Endpoint, timeout: float, product: str = "Docker") -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.product = product

    @property
    def pool_key(self) -> str:
        """Which kept connections this client may reuse (`_IdlePool`): one ssh:// URL in DOCKER_HOST and in
        CONTAINER_HOST is two engines, each reached through its own CLI on the far side."""
        return f"{self.product} {self.endpoint.url}"

    def _usable(self) -> None:
        if self.endpoint.problem:
            raise RuntimeUnavailable(self.endpoint.problem)

    def _connection(self) -> http.client.HTTPConnection:
        if self.endpoint.url.startswith("unix://"):
            return _unix_connection(self.endpoint.socket_path(), self.timeout)
        try:
            parsed = urlparse(self.endpoint.url)
            port = parsed.port
        except ValueError as exc:
            # urllib's "Port out of range 0-65535", "Port could not be cast…", "Invalid IPv6 URL"
            raise RuntimeUnavailable(
                f"{self.product} endpoint {self.endpoint.label} is not a valid address ({exc}); "
                f"correct {self.endpoint.source}"
            ) from exc
        if parsed.scheme in {"tcp", "http", "https"}:
            import http.client

            host = parsed.hostname or "localhost"
            if parsed.scheme == "https" or self.endpoint.tls is not None:
                tls = self.endpoint.tls or TlsFiles("the system's CAs")
                return http.client.HTTPSConnection(
                    host, port or 2376, timeout=self.timeout, context=tls.context()
                )
            return http.client.HTTPConnection(host, port or 2375, timeout=self.timeout)
        if parsed.scheme == "ssh":
            from debugbox.edge.ssh_transport import SshConnection, far_side, parse_ssh_url

            try:
                target = parse_ssh_url(self.endpoint.url)
            except ValueError as exc:
                raise RuntimeUnavailable(f"{self.product} endpoint {self.endpoint.label}: {exc}") from exc
            # Podman's ssh:// is served by `podman system dial-stdio` there, Docker's by `docker …`.
            return SshConnection(target, self.timeout, far_side(self.product))
        variable = "CONTAINER_HOST" if self.endpoint.source == "CONTAINER_HOST" else "DOCKER_HOST"
        raise RuntimeUnavailable(
            f"{self.product} endpoint {self.endpoint.label}: the {parsed.scheme}:// scheme is not supported "
            f"by debugbox; use a unix://, tcp:// or ssh:// {variable}"
        )

    @contextlib.contextmanager
    def _failures(self, conn: http.client.HTTPConnection | None = None) -> Iterator[None]:
        """Every way a call can fail, as one `RuntimeUnavailable` sentence saying why and what to do."""
        try:
            yield
        except Exception as exc:
            if not isinstance(exc, _transport_errors()):
                raise
            # ssh's own words come first: a refused login ends the stream just like a dead engine would.
            explain = getattr(conn, "explain", None)
            said = explain() if explain is not None else None
            if said:
                from debugbox.edge.ssh_transport import far_side, ssh_hint

                raise RuntimeUnavailable(
                    f"could not reach the {self.product} engine at {self.endpoint.label} over ssh: "
                    f"{said.rstrip('.')} ({ssh_hint(said, far_side(self.product))})"
                ) from exc
            raise RuntimeUnavailable(self._sentence(exc)) from exc

    def _sentence(self, exc: Exception) -> str:
        where = f"the {self.product} engine at {self.endpoint.label}"
        origin = self.endpoint.tls.origin if self.endpoint.tls else "the system's CAs"
        if isinstance(exc, TimeoutError):
            return (
                f"{where} did not answer within {self.timeout:g} s "
                "(hung? if only slow, raise debugbox.docker.timeoutSeconds)"
            )
        if isinstance(exc, FileNotFoundError):
            return (
                f"no {self.product} engine at {self.endpoint.label}: the socket does not exist "
                "(is the daemon running?)"
            )
        if isinstance(exc, ConnectionRefusedError):
            path = self.endpoint.socket_path()
            if path and not _is_socket(path):
                # connect() to a regular file (or a folder) is refused too, but no daemon could listen there.
                source = self.endpoint.source
                configured = source == "DOCKER_HOST" or source.startswith("context ")
                hint = f"is {source} pointing at the wrong path?" if configured else "no daemon listens there"
                return f"no {self.product} engine at {self.endpoint.label}: {path} is not a socket ({hint})"
            return f"{where} refused the connection (is the daemon running?)"
        if isinstance(exc, PermissionError):
            return (
                f"permission denied on the {self.product} socket {self.endpoint.label} "
                "(is your user in the docker group?)"
            )
        ssl = sys.modules.get("ssl")  # loaded when TLS was used; no TLS error can come from elsewhere
        if ssl is None:
            return f"{where} failed: {exc}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (
                f"{where} presented a certificate that does not verify against the CA of {origin} "
                f"({exc.verify_message}); is ca.pem the CA that signed the daemon's certificate?"
            )
        if isinstance(exc, ssl.SSLError):
            reason = exc.reason or str(exc)
            if "CERTIFICATE" in reason or "UNKNOWN_CA" in reason:
                return (
                    f"{where} refused the client certificate of {origin} ({reason}); it needs a "
                    "cert.pem/key.pem signed by the CA the daemon trusts"
                )
            return f"TLS with {where} failed ({reason}); does it serve TLS on that port?"
        return f"{where} failed: {exc}"

    def request(self, method: str, path: str, query: dict[str, str] | None = None) -> Response:
        url = _url(path, query)
        start = time.monotonic()
        self._usable()
        if self.endpoint.url.startswith("unix://"):
            return self._unix_request(method, url, start)
        idle = _idle_pool.take(self.pool_key)
        if idle is not None:
            try:
                return self._exchange(idle, method, url, start, reused=True)
            except _Stale:
                pass  # the kept connection had ended meanwhile: one fresh one, in the time left
        with self._failures():
            conn = self._connection()
        return self._exchange(conn, method, url, start)

    def _unix_request(self, method: str, url: str, start: float) -> Response:
        """A short call on a unix socket: one connection, `engine_http.exchange`, the same deadline (kept by the
        socket itself: `_DeadlineSocket`)."""
        deadline = start + self.timeout
        with self._failures():
            sock = unix_socket(self.endpoint.socket_path(), self.timeout, deadline=deadline)
        try:
            with self._failures():
                status, headers, body = exchange(sock, method, url, "docker", max_body=_MAX_BODY)
                return Response(status, headers, body)
        finally:
            sock.close()

    def _exchange(
        self, conn: http.client.HTTPConnection, method: str, url: str, start: float, *, reused: bool = False
    ) -> Response:
        import http.client

        keep = False
        try:
            with self._failures(conn):
                if conn.sock is None:
                    conn.connect()  # bounded by the socket timeout; the deadline needs the socket to exist
                else:  # kept from an earlier call, perhaps made under another timeout setting
                    conn.sock.settimeout(self.timeout)
                remaining = max(0.001, self.timeout - (time.monotonic() - start))
                with _deadline(conn.sock, remaining) as expired:
                    try:
                        conn.request(method, url, headers={"Host": "docker"})
                        resp = conn.getresponse()
                        body = resp.read(_MAX_BODY)  # b"" for HEAD
                        if expired.is_set():
                            raise TimeoutError
                        keep = getattr(conn, "keep_alive", False) and resp.isclosed() and not resp.will_close
                        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
                    except (OSError, http.client.HTTPException) as exc:
                        if expired.is_set() and not isinstance(exc, TimeoutError):
                            raise TimeoutError from exc
                        stale = (
                            http.client.RemoteDisconnected,
                            http.client.CannotSendRequest,
                            BrokenPipeError,
                            ConnectionResetError,
                        )
                        if reused and isinstance(exc, stale):
                            raise _Stale from exc
                        raise
        finally:
            if keep:
                _idle_pool.put(self.pool_key, conn)
            else:
                conn.close()

    def _open(self) -> tuple[socket.socket, http.client.HTTPConnection | None]:
        """A connected socket to the engine, with the `http.client` connection that made it (TCP, TLS, ssh:
        its `explain` names ssh's own failure) or None (a unix socket, connected here)."""
        self._usable()
        if self.endpoint.url.startswith("unix://"):
            with self._failures():
                return unix_socket(self.endpoint.socket_path(), self.timeout), None
        with self._failures():
            conn = self._connection()
        try:
            with self._failures(conn):
                conn.connect()
        except BaseException:
            conn.close()
            raise
        return conn.sock, conn

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        *,
        body: IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[Answer]:
        """A call whose request body (chunked) and answer are streamed, for archives of any size.

        The socket timeout bounds each read and write: a stalled engine ends the transfer (`TimeoutError` from
        the caller's reads), a slow one does not.
        """
        url = _url(path, query)
        sock, conn = self._open()
        try:
            with self._failures(conn):
                send_request(sock, method, url, {"Host": "docker", **(headers or {})}, body=body)
                answer = Answer(sock, method)
            # Failures while the caller reads are the caller's to explain: it knows what it was copying.
            yield answer
        finally:
            (conn or sock).close()

    def upload(
        self,
        path: str,
        query: dict[str, str],
        *,
        head: bytes,
        source: IO[bytes],
        count: int,
        tail: bytes,
        headers: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, bytes]:
        """PUT `head`, then `count` bytes of the file `source` from its start, then `tail`, with the exact
        Content-Length: the file's bytes go from the kernel's page cache to the socket (`socket.sendfile`), not
        through Python in chunks as a chunked body does; `progress` hears the bytes of the file sent so far,
        every `_SEND_STEP`. Returns the status and up to 1,000 bytes of the answer.

        The socket timeout bounds each send. When `source` holds fewer than `count` bytes (it shrank meanwhile),
        the connection is dropped before the body is complete and `ShortSource` says so: the engine fails the
        extraction, but keeps the part of the file it had written (Docker and Podman alike).
        """
        url = _url(path, query)
        length = str(len(head) + count + len(tail))
        sock, conn = self._open()
        try:
            with self._failures(conn):
                send_request(
                    sock, "PUT", url, {"Host": "docker", **(headers or {}), "Content-Length": length}
                )
                sock.sendall(head)
                sent = 0
                while sent < count:
                    step = sock.sendfile(source, sent, min(_SEND_STEP, count - sent))
                    if not step:
                        break  # the file ended early
                    sent += step
                    if progress is not None:
                        progress(sent)
                if sent == count:
                    sock.sendall(tail)
                    answer = Answer(sock, "PUT")
                    return answer.status, answer.read(1000)
        finally:
            (conn or sock).close()  # before the body is complete: the engine sees an upload cut short
        raise ShortSource(f"the file shrank while it was sent ({sent} of {count} bytes)")

    def remove_container(self, ref: str) -> bool:
        """`docker rm -f ref` as one call (a CLI process costs 50 to 200 ms): True when this removed it, False when
        it was gone already or is being removed by the engine (`--rm`; waited for, within the timeout)."""
        where = f"/containers/{quote(ref, safe='')}"
        resp = self.request("DELETE", where, {"force": "1"})
        if resp.status in (200, 204):
            return True
        if resp.status == 409:  # "removal already in progress": done when inspect no longer finds it
            end = time.monotonic() + self.timeout
            while self.request("GET", f"{where}/json").status != 404:
                if time.monotonic() > end:
                    raise RuntimeUnavailable(f"{ref} is still being removed after {self.timeout:g} s")
                time.sleep(0.05)
            return False
        if resp.status == 404:
            return False
        raise RuntimeUnavailable(
            f"the {self.product} engine at {self.endpoint.label} refused to remove {ref} ({resp.status}): "
            f"{error_message(resp.body)}"
        )

    def has_image(self, ref: str) -> bool:
        """Whether the engine has the image `ref` locally (so running it needs no pull); True when unsure."""
        return self.request("GET", f"/images/{quote(ref, safe='')}/json").status != 404

    def _json(self, path: str, query: dict[str, str] | None = None, *, what: str = "") -> Any:
        resp = self.request("GET", path, query)
        if resp.status >= 400 and what and is_ambiguous_prefix(error_message(resp.body)):
            raise AmbiguousTarget(
                f"{what!r} is the start of more than one container's ID on {self.endpoint.label}: give more of "
                "the ID, or the container's name (`debugbox targets` lists both)"
            )
        if resp.status == 404 and what:
            raise TargetNotFound(f"no such container: {what} (on {self.endpoint.label})")
        if resp.status >= 400:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} answered {resp.status} to {path}: "
                f"{error_message(resp.body)}"
            )
        try:
            return resp.json()
        except ValueError as exc:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} sent malformed JSON for {path}"
            ) from exc

    def ping(self) -> None:
        resp = self.request("GET", "/_ping")
        if resp.status != 200:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} answered {resp.status}"
            )

    def containers(self, *, all: bool = False) -> list[dict[str, Any]]:
        data = self._json("/containers/json", {"all": "1" if all else "0"})
        if not isinstance(data, list):
            raise RuntimeUnavailable(f"unexpected answer from {self.endpoint.label} to /containers/json")
        return [c for c in data if isinstance(c, dict)]

    def inspect(self, ref: str) -> dict[str, Any]:
        data = self._json(f"/containers/{quote(ref, safe='')}/json", what=ref)
        if not isinstance(data, dict):
            raise RuntimeUnavailable(f"unexpected answer from {self.endpoint.label} to inspect {ref}")
        return data

    def info(self) -> Any:
        """The engine's system information (`GET /info`), as it answered."""
        return self._json("/info")

    def top(self, container_id: str, ps_args: str) -> Any:
        """The engine's process list of a running container (`GET /containers/{id}/top`): read from the
        engine's side, nothing runs inside the container; one call, bounded like every other."""
        return self._json(f"/containers/{quote(container_id, safe='')}/top", {"ps_args": ps_args})

    def stat_path(self, container_id: str, path: str) -> dict[str, Any] | None:
        """The engine's stat of `path` in the container's filesystem, or None when it does not exist.

        `HEAD /containers/{id}/archive` reads the container's root filesystem from the engine's side: nothing
        runs inside the container (unlike the usual `sh -c 'command -v bash'` probes, which need a shell to
        work).
        """
        resp = self.request("HEAD", f"/containers/{quote(container_id, safe='')}/archive", {"path": path})
        if resp.status == 404:
            return None
        if resp.status != 200:
            # Not "missing": this engine (or its storage) cannot stat paths; the caller falls back to image
            # knowledge rather than concluding there is no shell.
            raise StatUnsupported(f"{self.endpoint.label} answered {resp.status} to an archive stat")
        return decode_path_stat(resp.headers.get("x-docker-container-path-stat", ""))


def _url(path: str, query: dict[str, str] | None) -> str:
    """`path?query`, each value percent-encoded as its bytes: a path in a container is bytes, and one that is
    not UTF-8 (`bad\\xffname`, held in a Python str as a surrogate escape) reaches the engine as those bytes."""
    return path + ("?" + urlencode(query, encoding="utf-8", errors="surrogateescape") if query else "")


def decode_path_stat(raw: str) -> dict[str, Any] | None:
    """The `X-Docker-Container-Path-Stat` header (sent with a HEAD and with a GET of `…/archive`) as a dict;
    {} when absent, None when unreadable."""
    try:
        # Docker sends standard base64, Podman the URL-safe alphabet (`-`, `_`); standard decoding silently
        # drops `-`/`_`, which turned some paths (non-ASCII names) into "missing" on Podman.
        stat = json.loads(base64.b64decode(raw.replace("-", "+").replace("_", "/"))) if raw else {}
    except ValueError:
        return None
    return stat if isinstance(stat, dict) else None


class _Stale(Exception):
    """A kept-alive connection turned out closed before it answered (not an engine fault: retried once)."""


class _IdlePool:
    """Connections kept open between calls, for transports whose connecting is expensive (ssh: a process
    and a handshake, about half a second). Each is used by one call at a time; one idle for `_MAX_IDLE`
    seconds is closed (by the next call, or by a janitor thread that runs while any are kept).
    """

    _MAX_IDLE = 30.0
    _MAX_PER_ENGINE = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._janitor: threading.Thread | None = None

    def _expired(self, now: float) -> list[http.client.HTTPConnection]:
        """Take the expired connections out (the caller closes them, outside the lock)."""
        old: list[http.client.HTTPConnection] = []
        for key, kept in list(self._idle.items()):
            old += [conn for since, conn in kept if now - since >= self._MAX_IDLE]
            kept[:] = [(since, conn) for since, conn in kept if now - since < self._MAX_IDLE]
            if not kept:
                del self._idle[key]
        return old

    def take(self, key: str) -> http.client.HTTPConnection | None:
        with self._lock:
            old = self._expired(time.monotonic())
            kept = self._idle.get(key)
            found = kept.pop()[1] if kept else None
        _close_all(old)
        return found

    def put(self, key: str, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._idle.setdefault(key, [])
            if len(kept) < self._MAX_PER_ENGINE:
                kept.append((time.monotonic(), conn))
                if self._janitor is None:
                    self._janitor = threading.Thread(target=self._sweep, name="debugbox-idle", daemon=True)
                    self._janitor.start()
                return
        conn.close()

    def _sweep(self) -> None:
        while True:
            time.sleep(self._MAX_IDLE / 3)
            with self._lock:
                old = self._expired(time.monotonic())
                done = not self._idle
                if done:
                    self._janitor = None
            _close_all(old)
            if done:
                return

    def close_all(self) -> None:
        with self._lock:
            kept = [conn for conns in self._idle.values() for _, conn in conns]
            self._idle.clear()
        _close_all(kept)


def _close_all(conns: list[http.client.HTTPConnection]) -> None:
    """Close several at once: every peer is told first (an ssh process exits on it), then each is reaped."""
    for conn in conns:
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
    for conn in conns:
        conn.close()


_idle_pool = _IdlePool()
atexit.register(_idle_pool.close_all)


@contextlib.contextmanager
def _deadline(sock: socket.socket, seconds: float) -> Iterator[threading.Event]:
    """Bound a whole call: the socket timeout bounds each recv, and an engine trickling a byte at a time would
    pass every one of them; when `seconds` pass, the socket is shut down, which ends any read in progress at
    once, and the event is set. (Streams are exempt: a 100 MB copy may take longer than any call should. Short
    calls on a unix socket need no timer: `_DeadlineSocket`.)"""
    expired = threading.Event()
    timer = threading.Timer(seconds, _expire, (sock, expired))
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _expire(sock: socket.socket, expired: threading.Event) -> None:
    expired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: How engines answer an ID prefix several containers share: Docker (500, or 400 in later versions) and Podman
#: (404 — which would otherwise read as "no such container").
_AMBIGUOUS = ("Multiple IDs found with provided prefix", "more than one result for container")


def is_ambiguous_prefix(message: str) -> bool:
    """Whether an engine's error message says the container reference matched several containers."""
    return any(words in message for words in _AMBIGUOUS)


def error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return body[:200].decode("utf-8", "replace").strip()
