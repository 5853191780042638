"""A small, blocking client for the Docker Engine API (also served by Podman's compatible socket), stdlib
only.

Why not the docker SDK: debugbox needs four read-only calls (list, inspect, archive stat, ping). Over a unix
socket `http.client` does them in about a millisecond each, with no import cost (the SDK plus requests/urllib3
costs ~150 ms to import) and with exact control of the one thing that matters most here: every call carries a
socket timeout, so a daemon that accepts and never answers becomes `RuntimeUnavailable` after `timeout`
seconds instead of a hang. A fresh connection per call keeps it thread-safe (calls run in worker threads off
the event loop).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, urlencode, urlparse

from debugbox.core.errors import RuntimeUnavailable, TargetNotFound

_MAX_BODY = 32 * 1024 * 1024
"""A `/containers/json` answer for thousands of containers fits; anything bigger is not an engine talking."""


@dataclass(frozen=True)
class Endpoint:
    """Where an engine listens: `unix:///path` or `tcp://host:port` (optionally TLS); `ssh://` is refused."""

    url: str
    source: str = "default"
    """Where it came from, for messages: `DOCKER_HOST`, `context NAME`, `default`, `podman socket`."""
    tls: ssl.SSLContext | None = None

    @property
    def label(self) -> str:
        return f"{self.url} ({self.source})"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class StatUnsupported(Exception):
    """The engine cannot stat paths in containers (an answer other than 200 or 404)."""


@dataclass(frozen=True)
class Response:
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

    def _connection(self) -> http.client.HTTPConnection:
        parsed = urlparse(self.endpoint.url)
        if parsed.scheme == "unix":
            return _UnixConnection(parsed.path, self.timeout)
        if parsed.scheme in {"tcp", "http", "https"}:
            host = parsed.hostname or "localhost"
            if parsed.scheme == "https" or self.endpoint.tls is not None:
                ctx = self.endpoint.tls or ssl.create_default_context()
                return http.client.HTTPSConnection(
                    host, parsed.port or 2376, timeout=self.timeout, context=ctx
                )
            return http.client.HTTPConnection(host, parsed.port or 2375, timeout=self.timeout)
        raise RuntimeUnavailable(
            f"{self.product} endpoint {self.endpoint.label}: the {parsed.scheme}:// scheme is not supported "
            "by debugbox; use a unix:// or tcp:// DOCKER_HOST"
        )

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """Every way a call can fail, as one `RuntimeUnavailable` sentence saying why and what to do."""
        try:
            yield
        except TimeoutError as exc:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} did not answer within "
                f"{self.timeout:g} s (hung? if only slow, raise debugbox.docker.timeoutSeconds)"
            ) from exc
        except FileNotFoundError as exc:
            raise RuntimeUnavailable(
                f"no {self.product} engine at {self.endpoint.label}: the socket does not exist "
                f"(is the daemon running?)"
            ) from exc
        except ConnectionRefusedError as exc:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} refused the connection "
                "(is the daemon running?)"
            ) from exc
        except PermissionError as exc:
            raise RuntimeUnavailable(
                f"permission denied on the {self.product} socket {self.endpoint.label} "
                "(is your user in the docker group?)"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise RuntimeUnavailable(
                f"the {self.product} engine at {self.endpoint.label} failed: {exc}"
            ) from exc

    def request(self, method: str, path: str, query: dict[str, str] | None = None) -> Response:
        url = path + ("?" + urlencode(query) if query else "")
        conn = self._connection()
        # The socket timeout bounds each recv; an engine trickling a byte at a time would pass every one of
        # them. The deadline bounds the whole call: when it passes, the socket is shut down, which ends any
        # read in progress at once. (Streams are exempt: a 100 MB copy may take longer than any call should.)
        start = time.monotonic()
        expired = threading.Event()
        deadline: threading.Timer | None = None
        try:
            with self._failures():
                try:
                    conn.connect()  # bounded by the socket timeout; the deadline needs the socket to exist
                    remaining = max(0.001, self.timeout - (time.monotonic() - start))
                    deadline = threading.Timer(remaining, _expire, (conn, expired))
                    deadline.daemon = True
                    deadline.start()
                    conn.request(method, url, headers={"Host": "docker"})
                    resp = conn.getresponse()
                    body = b"" if method == "HEAD" else resp.read(_MAX_BODY)
                    if expired.is_set():
                        raise TimeoutError
                    return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
                except (OSError, http.client.HTTPException) as exc:
                    if expired.is_set() and not isinstance(exc, TimeoutError):
                        raise TimeoutError from exc
                    raise
        finally:
            if deadline is not None:
                deadline.cancel()
            conn.close()

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        *,
        body: IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """A call whose request body (chunked) and answer are streamed, for archives of any size.

        The socket timeout bounds each read and write: a stalled engine ends the transfer (`TimeoutError` from
        the caller's reads), a slow one does not.
        """
        url = path + ("?" + urlencode(query) if query else "")
        conn = self._connection()
        try:
            with self._failures():
                conn.request(method, url, body=body, headers={"Host": "docker", **(headers or {})})
                resp = conn.getresponse()
            # Failures while the caller reads are the caller's to explain: it knows what it was copying.
            yield resp
        finally:
            conn.close()

    def has_image(self, ref: str) -> bool:
        """Whether the engine has the image `ref` locally (so running it needs no pull); True when unsure."""
        return self.request("GET", f"/images/{quote(ref, safe='')}/json").status != 404

    def _json(self, path: str, query: dict[str, str] | None = None, *, what: str = "") -> Any:
        resp = self.request("GET", path, query)
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
        raw = resp.headers.get("x-docker-container-path-stat", "")
        try:
            # Docker sends standard base64, Podman the URL-safe alphabet (`-`, `_`); standard decoding silently
            # drops `-`/`_`, which turned some paths (non-ASCII names) into "missing" on Podman.
            stat = json.loads(base64.b64decode(raw.replace("-", "+").replace("_", "/"))) if raw else {}
        except ValueError:
            return None
        return stat if isinstance(stat, dict) else None


def _expire(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return body[:200].decode("utf-8", "replace").strip()
