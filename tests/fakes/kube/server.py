"""The fake Kubernetes API server: HTTPS on 127.0.0.1, driven by real kubectl and the real `kubernetes` client.

What it owns: the HTTP layer and the request pipeline of a real kube-apiserver, in its order
(`staging/src/k8s.io/apiserver/pkg/server/config.go` `DefaultBuildHandlerChain`): TLS, authentication
(`rbac.Authenticator`: bearer token or client certificate, else 401 or `system:anonymous`), authorization
(`rbac.RBAC`, 403 with the real message), then the handler: decoding and content negotiation, mutating admission
(`NamespaceLifecycle`: a pod in a missing namespace is 404), defaults and validation (`store.py`,
`validation.py`: 422), validating admission (`admission.py`, Pod Security: 403), storage (409 on a taken name),
and watches that stream the events the simulated kubelet (`kubelet.py`) causes. Streaming subresources
(`attach`, `exec`) speak the websocket remote-command protocol (`streaming.py`) to real processes when the pod is
docker-backed (`docker_kubelet.py`); `portforward` serves kubectl's SPDY session (`portforward.py`, `spdy.py`),
tunnelled in websocket messages or on a SPDY/3.1 upgrade, to ports inside the pod's network namespace; `log`
serves what the container wrote.

Routes: discovery (`/version`, `/api`, `/api/v1`, `/apis`, `authorization.k8s.io/v1`), pods (list, watch, get,
create, delete, patch of labels/annotations/images) and their `ephemeralcontainers`, `attach`, `exec`,
`portforward`, `log` subresources, namespaces (get, list),
`selfsubjectaccessreviews` and `selfsubjectreviews` (authentication.k8s.io/v1). Any other path is 404
`NotFound`, like a real server for an unknown resource;
server-side apply is a 500 that says it is not implemented rather than pretending. Every request is recorded
(method, path, query, content type, accept, user agent, body, user) so tests assert on what clients sent.

Fault switches (`Faults`) simulate what a healthy server does not: the ephemeral-containers subresource missing,
401 for every request (expired credentials), denials of (verb, resource) on top of RBAC, 500, malformed JSON and
slow answers. With `network=True` clients reach it through a TCP hop (`network.py`) that a test fails at a
chosen request: the server gone (connections refused and reset) or a load balancer that accepts and never answers.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.fakes.kube import admission, portforward, rbac, streaming
from tests.fakes.kube.docker_kubelet import DockerRuntime
from tests.fakes.kube.kubelet import PULL_ERRORS, ImageTable, Kubelet, Lifecycle
from tests.fakes.kube.network import Network
from tests.fakes.kube.patches import json_patch, merge_patch, strategic_merge
from tests.fakes.kube.rbac import Attributes, User
from tests.fakes.kube.selectors import field_filter, fields_match, labels_match, parse_label_selector
from tests.fakes.kube.status import (
    ApiError,
    FieldError,
    already_exists,
    bad_request,
    invalid,
    not_found,
    unauthorized,
)
from tests.fakes.kube.store import Store, default_container, now
from tests.fakes.kube.tls import CertificateAuthority, server_context, test_run_ca
from tests.fakes.kube.validation import validate_ephemeral_update, validate_pod_create
from tests.fakes.protobuf import DecodeError, decode_object

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
SMP = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
GIT_VERSION = "v1.33.0-fake"
AUTHZ_GROUP = "authorization.k8s.io"

#: The identity the fixture's kubeconfig uses unless a test picks another: an administrator (system:masters
#: bypasses authorization, like the admin credentials kubeadm writes).
ADMIN = User("debugbox-admin", (rbac.MASTERS,))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    accept: str
    user_agent: str
    body: bytes
    decoded: Any = None
    """The body as JSON (or the decoded protobuf Pod), when it parsed."""
    authorization: str = ""
    """The Authorization header's scheme ("Bearer"), never the token."""
    client_cert: str = ""
    """The client certificate's common name, when one was presented."""

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Faults:
    """Switches a test flips to make the fake misbehave the way real clusters do."""

    ephemeral_disabled: bool = False
    """PATCH pods/ephemeralcontainers answers 404 with an empty details.name (the feature gate is off)."""
    unauthorized: bool = False
    """Every request answers 401 (bad or expired credentials)."""
    denied: set[tuple[str, str]] = field(default_factory=set)
    """Denials as (verb, resource), e.g. ("patch", "pods/ephemeralcontainers"), on top of the RBAC model: 403
    with the authorizer's message for the requesting user."""
    internal_error: bool = False
    """Every API request answers 500 InternalError."""
    malformed: bool = False
    """Every API request answers 200 with a truncated JSON body."""
    delay_seconds: float = 0.0
    """Sleep this long before answering any request (a slow or overloaded server)."""
    portforward_websockets_disabled: bool = False
    """The API server's `PortForwardWebsockets` feature is off: a websocket GET on pods/portforward is proxied
    to the kubelet's legacy websocket handler, whose handshake refuses the tunnelling subprotocol (`handshake`
    in `staging/src/k8s.io/apimachinery/pkg/util/httpstream/wsstream/conn.go`; golang.org/x/net/websocket
    answers a failed handshake 403 with no body), and kubectl falls back to the SPDY POST."""


# --- request attributes (RequestInfoFactory.NewRequestInfo, staging/src/k8s.io/apiserver/pkg/endpoints/request) ---

_POD_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$")
_NS_PATH = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")
_SSAR_PATH = f"/apis/{AUTHZ_GROUP}/v1/selfsubjectaccessreviews"
_SSR_PATH = f"/apis/{rbac.AUTHN_GROUP}/v1/selfsubjectreviews"
_VERBS = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}


def request_attributes(method: str, path: str, query: dict[str, list[str]]) -> Attributes:
    verb = _VERBS.get(method, method.lower())
    watching = (query.get("watch") or [""])[0] in ("true", "1")
    m = _POD_PATH.match(path)
    if m:
        sub = m["sub"] or ""
        if not m["name"]:
            verb = "watch" if watching else ("list" if verb == "get" else verb)
            if verb == "delete":
                verb = "deletecollection"
        if sub in ("attach", "exec", "portforward"):
            # Websocket GETs are authorised as create, like SPDY POSTs (feature
            # AuthorizePodWebsocketUpgradeCreatePermission, `staging/src/k8s.io/apiserver/pkg/endpoints/filters/
            # authorization.go`): `create` on `pods/portforward` is what `kubectl port-forward` needs.
            verb = "create"
        return Attributes(verb, "pods", sub, m["ns"], m["name"] or "")
    if path == "/api/v1/pods":
        return Attributes("watch" if watching else "list", "pods")
    m = _NS_PATH.match(path)
    if m:
        if not m["name"]:
            return Attributes("watch" if watching else ("list" if verb == "get" else verb), "namespaces")
        return Attributes(verb, "namespaces", "", m["name"], m["name"])
    if path == _SSAR_PATH:
        return Attributes(verb, "selfsubjectaccessreviews", group=AUTHZ_GROUP)
    if path == _SSR_PATH:
        return Attributes(verb, "selfsubjectreviews", group=rbac.AUTHN_GROUP)
    return Attributes(verb, path=path)


def _api_resources() -> dict[str, Any]:
    def res(name: str, kind: str, verbs: list[str], namespaced: bool = True, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "singularName": "",
            "namespaced": namespaced,
            "kind": kind,
            "verbs": verbs,
            **extra,
        }

    return {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            res(
                "namespaces", "Namespace", ["create", "delete", "get", "list", "patch", "update", "watch"],
                False, shortNames=["ns"],
            ),
            res(
                "pods", "Pod", ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                shortNames=["po"], categories=["all"],
            ),
            res("pods/attach", "PodAttachOptions", ["create", "get"]),
            res("pods/ephemeralcontainers", "Pod", ["get", "patch", "update"]),
            res("pods/exec", "PodExecOptions", ["create", "get"]),
            res("pods/log", "Pod", ["get"]),
            res("pods/portforward", "PodPortForwardOptions", ["create", "get"]),
            res("pods/status", "Pod", ["get", "patch", "update"]),
        ],
    }  # fmt: skip


def _authz_group() -> dict[str, Any]:
    version = {"groupVersion": f"{AUTHZ_GROUP}/v1", "version": "v1"}
    return {"name": AUTHZ_GROUP, "versions": [version], "preferredVersion": version}


def _authz_resources() -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{AUTHZ_GROUP}/v1",
        "resources": [
            {"name": n, "singularName": "", "namespaced": ns, "kind": k, "verbs": ["create"]}
            for n, k, ns in (
                ("localsubjectaccessreviews", "LocalSubjectAccessReview", True),
                ("selfsubjectaccessreviews", "SelfSubjectAccessReview", False),
                ("selfsubjectrulesreviews", "SelfSubjectRulesReview", False),
                ("subjectaccessreviews", "SubjectAccessReview", False),
            )
        ],
    }


# --- HTTP ---


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded, not printed

    def handle(self) -> None:
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return  # e.g. a client that does not trust the CA: it closes the handshake
        super().handle()

    # One entry point for every method.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _peer_cert(self) -> dict[str, Any] | None:
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            return cert or None
        return None

    def _handle(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        decoded: Any = None
        if body:
            try:
                if ctype == PROTOBUF:
                    decoded = decode_object(body)
                elif ctype == "application/yaml":
                    decoded = yaml.safe_load(body)
                else:
                    decoded = json.loads(body)
            except (ValueError, DecodeError, yaml.YAMLError):
                decoded = None
        authorization = self.headers.get("Authorization") or ""
        peer = self._peer_cert()
        cn = next((v for rdn in (peer or {}).get("subject", ()) for k, v in rdn if k == "commonName"), "")
        req = RecordedRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            content_type=self.headers.get("Content-Type") or "",
            accept=self.headers.get("Accept") or "",
            user_agent=self.headers.get("User-Agent") or "",
            body=body,
            decoded=decoded,
            authorization=authorization.split(" ", 1)[0],
            client_cert=cn,
        )
        with fake.lock:
            fake.requests.append(req)
        if fake.network is not None:
            fake.network.saw(req)  # a path set to fail at this request fails before it is answered
        faults = fake.faults
        if faults.delay_seconds:
            with fake.lock:
                fake.delayed_now += 1
                fake.most_delayed_at_once = max(fake.most_delayed_at_once, fake.delayed_now)
            try:
                time.sleep(faults.delay_seconds)
            finally:
                with fake.lock:
                    fake.delayed_now -= 1
        try:
            if faults.unauthorized:
                raise unauthorized()
            user = fake.authenticator.authenticate(authorization, peer)
            if user is None:
                raise unauthorized()
            attrs = request_attributes(req.method, req.path, req.query)
            fake.authorize(user, attrs)
            if faults.internal_error and url.path.startswith("/api"):
                raise ApiError(
                    500,
                    "InternalError",
                    "Internal error occurred: etcdserver: request timed out",
                    {"causes": [{"message": "etcdserver: request timed out"}]},
                )
            if faults.malformed and url.path.startswith("/api"):
                self._send(200, b'{"kind":"PodList","apiVersion":"v1","items":[{"metadata":', JSON)
                return
            fake.route(self, req, user)
        except ApiError as err:
            self._send_json(err.code, err.status())
        except _Answered:
            pass
        except (BrokenPipeError, ConnectionResetError, ssl.SSLEOFError):
            # The client went away mid-answer (a watch that gave up after its timeout closes its TLS connection):
            # nothing is left to answer, and it is not a bug of the fake. Writing a 500 on that socket fails too.
            pass
        except Exception as exc:  # a bug in the fake: answer 500 and let the test fixture fail on it
            with fake.lock:
                fake.errors.append(f"{req.method} {req.path}: {exc!r}")
            self._send_json(500, ApiError(500, "InternalError", f"fake API server bug: {exc!r}").status())

    def _send(self, code: int, payload: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Audit-Id", "fake-audit-id")
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode(), JSON)

    def _start_chunked(self, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _stream(self, events: Iterator[dict[str, Any]]) -> None:
        self._start_chunked(JSON)
        for event in events:
            self._chunk(json.dumps(event).encode() + b"\n")
        self._end_chunked()

    def upgrade_websocket(self, protocols: tuple[str, ...] = streaming.PROTOCOLS) -> streaming.WebSocket:
        """Answer the RFC 6455 handshake with the first of `protocols` the client offers; raises ApiError 400
        when it is not one."""
        if (self.headers.get("Upgrade") or "").lower() != "websocket" or not self.headers.get(
            "Sec-WebSocket-Key"
        ):
            raise bad_request("Upgrade request required")
        protocol = streaming.choose_protocol(self.headers.get("Sec-WebSocket-Protocol") or "", protocols)
        if protocol is None:
            raise bad_request("unable to upgrade: no supported subprotocol was offered")
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", streaming.accept_key(self.headers["Sec-WebSocket-Key"]))
        self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        return streaming.WebSocket(self.rfile, self.wfile, self.connection, protocol)  # type: ignore[arg-type]

    def upgrade_spdy(self, protocol: str) -> None:
        """Answer a SPDY/3.1 upgrade (`httpstream.Handshake`, then `spdy.responseUpgrader.UpgradeResponse` in
        `staging/src/k8s.io/apimachinery/pkg/util/httpstream/`): the client must name `protocol` in
        `X-Stream-Protocol-Version` (403 otherwise) and send `Connection: Upgrade`, `Upgrade: SPDY/3.1` (400
        otherwise); both refusals are plain text, as `http.Error` writes them."""
        offered = self.headers.get_all("X-Stream-Protocol-Version") or []
        offered = [p.strip() for value in offered for p in value.split(",") if p.strip()]
        if not offered:
            self._send(400, b"unable to upgrade: X-Stream-Protocol-Version is required", "text/plain")
            raise _Answered
        if protocol not in offered:
            text = (
                "unable to upgrade: unable to negotiate protocol: "
                f"client supports {offered}, server accepts [{protocol}]"
            )
            self._send(403, text.encode(), "text/plain")
            raise _Answered
        if (
            "upgrade" not in (self.headers.get("Connection") or "").lower()
            or "spdy/3.1" not in (self.headers.get("Upgrade") or "").lower()
        ):
            self._send(400, b"unable to upgrade: missing upgrade headers in request", "text/plain")
            raise _Answered
        self.send_response(101, "Switching Protocols")
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", "SPDY/3.1")
        self.send_header("X-Stream-Protocol-Version", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True


class _Answered(Exception):
    """The handler has already written its (non-Status) answer."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeKubeAPIServer
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


class FakeKubeAPIServer:
    """Start with `start()` (or as a context manager). For tests: `url`, `store`, `requests`, `faults`, `rbac`,
    `authenticator`, `images`, `lifecycle`, `kubelet`, `write_kubeconfig(...)`, `add_user(...)`."""

    def __init__(
        self,
        *,
        tls: bool = True,
        docker: bool = False,
        pause_image: str = "toolbox:test",
        lifecycle: Lifecycle | None = None,
        images: ImageTable | None = None,
        anonymous: bool = False,
        network: bool = False,
    ) -> None:
        self.store = Store()
        self.faults = Faults()
        self.rbac = rbac.RBAC()
        self.authenticator = rbac.Authenticator(anonymous=anonymous)
        self.images = images if images is not None else ImageTable()
        self.lifecycle = lifecycle or Lifecycle()
        self.ca: CertificateAuthority = test_run_ca()
        self.tls = tls
        self.docker = DockerRuntime(self.images, pause_image) if docker else None
        self.kubelet = Kubelet(self.store, self.images, self.lifecycle, self.docker)
        self.store.on_new_pod = self.kubelet.pod_created
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        """Exceptions inside the fake itself (its bugs); the test fixture fails when any happened."""
        self.portforward_sessions: list[portforward.SessionLog] = []
        """What each port-forward session saw: the streams' headers, accepted and refused."""
        self.lock = threading.Lock()
        self.delayed_now = 0
        self.most_delayed_at_once = 0
        """The most requests held in `faults.delay_seconds` at one time: requests a client sends in parallel
        overlap there, those it sends one after the other do not (a test of parallelism that does not time
        the client's own work, which a loaded machine under coverage slows by seconds)."""
        self.watch_seconds = 30.0
        """The longest a watch stays open (a real server closes watches after a random 30-60 min)."""
        self._network = network
        self.network: Network | None = None
        """With `network=True`: the TCP hop clients connect through, which a test fails (`network.py`)."""
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.admin_token = self.add_user(ADMIN.name, ADMIN.groups)

    # lifecycle
    def start(self) -> FakeKubeAPIServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        httpd.tls = server_context(self.ca) if self.tls else None
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="fake-kube-apiserver", daemon=True
        )
        self._thread.start()
        if self._network:
            self.network = Network(httpd.server_address[:2]).start()
        self.kubelet.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self.network is not None:
            self.network.stop()
        with self.store.lock:
            self.store.changed.notify_all()
        self.kubelet.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self.docker is not None:
            self.docker.cleanup()
        self.errors.extend(self.kubelet.errors)
        self.kubelet.errors.clear()

    def __enter__(self) -> FakeKubeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self.network.address if self.network is not None else self._httpd.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    # identities
    def add_user(self, name: str, groups: tuple[str, ...] = ()) -> str:
        """Register a user for bearer-token authentication; returns the token."""
        token = f"fake-token-{name}-{len(self.authenticator.tokens)}"
        self.authenticator.tokens[token] = User(name, tuple(groups))
        return token

    def write_kubeconfig(
        self,
        path: Path,
        *,
        context: str = "fake",
        namespace: str = "default",
        user: str = ADMIN.name,
        groups: tuple[str, ...] | None = None,
        credentials: str = "token",
        ca: bool = True,
    ) -> Path:
        """A kubeconfig for this server (JSON is valid YAML): the test CA as `certificate-authority-data`, and
        `user` authenticating with a bearer `token`, a client `cert` (CN user, O groups), or `none`."""
        import base64

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        cluster: dict[str, Any] = {"server": self.url}
        if self.tls and ca:
            cluster["certificate-authority-data"] = b64(self.ca.cert_pem)
        wanted_groups = ADMIN.groups if groups is None and user == ADMIN.name else tuple(groups or ())
        creds: dict[str, Any] = {}
        if credentials == "token":
            known = [
                t
                for t, u in self.authenticator.tokens.items()
                if u.name == user and u.groups == wanted_groups
            ]
            creds["token"] = known[0] if known else self.add_user(user, wanted_groups)
        elif credentials == "cert":
            pair = self.ca.client(user, wanted_groups)
            creds["client-certificate-data"] = b64(pair.cert_pem)
            creds["client-key-data"] = b64(pair.key_pem)
        elif credentials != "none":
            raise ValueError(f"credentials must be token, cert or none, not {credentials!r}")
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": cluster}],
            "contexts": [
                {"name": context, "context": {"cluster": "fake", "namespace": namespace, "user": user}}
            ],
            "current-context": context,
            "users": [{"name": user, "user": creds}],
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    # inspection helpers for tests
    def requests_to(self, method: str, path_suffix: str = "") -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def wait_for(self, ns: str, pod: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until `predicate(pod)` holds for the stored pod; returns it (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.store.lock:
                current = self.store.pods.get((ns, pod))
                if current is not None and predicate(current):
                    return copy.deepcopy(current)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"pod {ns}/{pod} did not reach the state in {timeout} s: {current}")
                self.store.changed.wait(min(remaining, 0.2))

    # authorization
    def authorize(self, user: User, a: Attributes) -> None:
        if a.resource_request and (a.verb, a.combined) in self.faults.denied:
            raise rbac.forbidden_error(user, a)
        allowed, _ = self.rbac.decide(user, a)
        if not allowed:
            raise rbac.forbidden_error(user, a)

    # routing
    def route(self, h: _Handler, req: RecordedRequest, user: User) -> None:
        path = req.path
        if req.method == "GET" and path == "/version":
            h._send_json(200, {
                "major": "1", "minor": "33", "gitVersion": GIT_VERSION, "gitCommit": "fake",
                "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24",
                "compiler": "gc", "platform": "linux/amd64",
            })  # fmt: skip
            return
        if req.method == "GET" and path == "/api":
            h._send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.url.split("://")[1]}],
            })  # fmt: skip
            return
        if req.method == "GET" and path == "/apis":
            h._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_authz_group()]})
            return
        if req.method == "GET" and path == f"/apis/{AUTHZ_GROUP}":
            h._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", **_authz_group()})
            return
        if req.method == "GET" and path == f"/apis/{AUTHZ_GROUP}/v1":
            h._send_json(200, _authz_resources())
            return
        if req.method == "GET" and path == "/api/v1":
            h._send_json(200, _api_resources())
            return
        if path == _SSAR_PATH and req.method == "POST":
            h._send_json(201, rbac.self_subject_access_review(self.rbac, user, req.decoded))
            return
        if path == _SSR_PATH and req.method == "POST":
            h._send_json(201, rbac.self_subject_review(user))
            return
        if req.method == "GET" and path == "/api/v1/pods":
            self._list_pods(h, req, None)
            return
        m = _NS_PATH.match(path)
        if m:
            self._namespaces(h, req, m["name"])
            return
        m = _POD_PATH.match(path)
        if m:
            self._pods(h, req, m["ns"], m["name"], m["sub"])
            return
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _namespaces(self, h: _Handler, req: RecordedRequest, name: str | None) -> None:
        if req.method != "GET":
            raise ApiError(
                405, "MethodNotAllowed", f"the fake does not implement {req.method} on namespaces", {}
            )
        with self.store.lock:
            if name is None:
                items = [copy.deepcopy(n) for n in self.store.namespaces.values()]
                for item in items:
                    item.pop("kind"), item.pop("apiVersion")
                h._send_json(
                    200,
                    {
                        "kind": "NamespaceList",
                        "apiVersion": "v1",
                        "metadata": {"resourceVersion": self.store.current_rv()},
                        "items": items,
                    },
                )
                return
            ns = self.store.namespaces.get(name)
            if ns is None:
                raise not_found("namespaces", name)
            h._send_json(200, ns)

    def _pods(self, h: _Handler, req: RecordedRequest, ns: str, name: str | None, sub: str | None) -> None:
        if name is None:
            if req.method == "GET":
                self._list_pods(h, req, ns)
            elif req.method == "POST":
                self._create_pod(h, req, ns)
            else:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    f"the fake does not implement {req.method} on the pods collection",
                    {},
                )
            return
        if sub is None:
            if req.method == "GET":
                h._send_json(200, self.store.get(ns, name))
            elif req.method == "DELETE":
                self._delete_pod(h, req, ns, name)
            elif req.method == "PATCH":
                self._patch_pod(h, req, ns, name)
            else:
                raise ApiError(
                    405, "MethodNotAllowed", f"the fake does not implement {req.method} on pods/NAME", {}
                )
        elif sub == "ephemeralcontainers":
            if req.method == "GET":
                h._send_json(200, self.store.get(ns, name))
            elif req.method == "PATCH":
                self._patch_ephemeral(h, req, ns, name)
            else:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    f"the fake does not implement {req.method} on pods/ephemeralcontainers",
                    {},
                )
        elif sub in ("attach", "exec"):
            self._stream(h, req, ns, name, sub)
        elif sub == "portforward" and req.method in ("GET", "POST"):
            self._port_forward(h, req, ns, name)
        elif sub == "log" and req.method == "GET":
            self._log(h, req, ns, name)
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    # --- list and watch ---

    def _list_pods(self, h: _Handler, req: RecordedRequest, ns: str | None) -> None:
        reqs = parse_label_selector(req.q("labelSelector") or "")
        fields = field_filter(req.q("fieldSelector") or "")

        def matches(pod: dict[str, Any]) -> bool:
            return (
                (ns is None or pod["metadata"]["namespace"] == ns)
                and labels_match(reqs, pod["metadata"].get("labels") or {})
                and fields_match(fields, pod)
            )

        with self.store.lock:
            items = [copy.deepcopy(p) for _, p in sorted(self.store.pods.items()) if matches(p)]
            rv = self.store.current_rv()
        if req.q("watch") in ("true", "1"):
            self._watch(h, req, matches, items, rv)
            return
        for item in items:  # a real server leaves kind/apiVersion off list items
            item.pop("kind", None), item.pop("apiVersion", None)
        h._send_json(
            200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items}
        )

    def _watch(
        self, h: _Handler, req: RecordedRequest, matches: Any, items: list[dict[str, Any]], rv: str
    ) -> None:
        """A watch (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go`): from `resourceVersion`
        (events after it), or from "now" with the current state as ADDED events when none (or 0) is given or
        `sendInitialEvents=true`, which ends its initial state with a BOOKMARK carrying the
        `k8s.io/initial-events-end` annotation; then every matching event until `timeoutSeconds`."""
        start = req.q("resourceVersion") or "0"
        initial = start == "0" or req.q("sendInitialEvents") == "true"
        cursor = int(rv) if initial else int(start)
        timeout = min(float(req.q("timeoutSeconds") or self.watch_seconds), self.watch_seconds)
        deadline = time.monotonic() + timeout
        h._start_chunked(JSON)
        try:
            if initial:
                for item in items:
                    h._chunk(json.dumps({"type": "ADDED", "object": item}).encode() + b"\n")
            if req.q("sendInitialEvents") == "true":
                end = {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}
                bookmark = {
                    "type": "BOOKMARK",
                    "object": {"kind": "Pod", "apiVersion": "v1", "metadata": end},
                }
                h._chunk(json.dumps(bookmark).encode() + b"\n")
            while not self._stopping.is_set() and time.monotonic() < deadline:
                for event_rv, kind, obj in self.store.events_after(cursor, 0.2):
                    cursor = event_rv
                    if matches(obj):
                        h._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
            h._end_chunked()
        except OSError:
            h.close_connection = True

    # --- create and delete ---

    def _create_pod(self, h: _Handler, req: RecordedRequest, ns: str) -> None:
        # A real server reads a body without Content-Type as its first media type, JSON
        # (NegotiateInputSerializer); the Python client sends POSTs that way.
        if req.content_type.split(";")[0].strip() not in ("", JSON, PROTOBUF, "application/yaml"):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",  # noqa: E501 - the real server's text
            )
        pod = req.decoded
        if not isinstance(pod, dict):
            raise bad_request("the object provided is unrecognized (must be of type Pod)")
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        if meta.get("namespace") and meta["namespace"] != ns:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        # NamespaceLifecycle (plugin/pkg/admission/namespace/lifecycle): no pods in a namespace that does not exist.
        with self.store.lock:
            if ns not in self.store.namespaces:
                raise not_found("namespaces", ns)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self.store.generate_name(meta["generateName"])
        name = meta.get("name") or ""
        pod = self.store.default_pod(pod, ns)
        errors = validate_pod_create(pod)
        if errors:
            raise invalid("Pod", name, errors)
        admission.admit_pod(self.store.namespace_labels(ns), pod)
        dry_run = req.q("dryRun") == "All"
        with self.store.lock:
            if (ns, name) in self.store.pods:
                raise already_exists("pods", name)
            stored = copy.deepcopy(pod) if dry_run else self.store.put(pod, "ADDED")
        if not dry_run:
            # In a docker-backed fake, created pods (kubectl debug --copy-to) run as real containers too.
            self.kubelet.pod_created(ns, name, self.docker is not None)
        h._send_json(201, stored)

    def _delete_pod(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        """Graceful deletion (`pkg/registry/core/pod/strategy.go` `CheckGracefulDelete`): a scheduled pod gets
        `deletionTimestamp` and stays until the kubelet stopped it; an unscheduled one (or grace 0) goes at once."""
        options = req.decoded if isinstance(req.decoded, dict) else {}
        grace_raw = req.q("gracePeriodSeconds") or options.get("gracePeriodSeconds")
        with self.store.lock:
            pod = self.store.get(ns, name)
            grace = (
                int(grace_raw)
                if grace_raw is not None
                else int(pod["spec"].get("terminationGracePeriodSeconds", 30))
            )
            if not pod["spec"].get("nodeName") or pod["status"].get("phase") in ("Succeeded", "Failed"):
                grace = 0
            if grace == 0:
                if self.docker is not None:
                    self.docker.remove_pod(ns, name)
                gone = self.store.put(pod, "DELETED")
                h._send_json(200, gone)
                return
            pod["metadata"]["deletionTimestamp"] = now()
            pod["metadata"]["deletionGracePeriodSeconds"] = grace
            stored = self.store.put(pod)
        self.kubelet.pod_deleting(ns, name, grace)
        h._send_json(200, stored)

    # --- ephemeral containers ---

    def _patch_pod(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        """PATCH pods/NAME: metadata (labels, annotations) may change; the spec only where `ValidatePodUpdate`
        (`pkg/apis/core/validation/validation.go`) allows — container images, activeDeadlineSeconds,
        tolerations — and the status stays as it was (`podStrategy.PrepareForUpdate`,
        `pkg/registry/core/pod/strategy.go`: status changes go through pods/status)."""
        with self.store.lock:
            old = self.store.get(ns, name)
            new, dry_run = self._apply_patch(req, old, name)
            result = copy.deepcopy(old)
            result["metadata"]["labels"] = (new.get("metadata") or {}).get("labels") or {}
            result["metadata"]["annotations"] = (new.get("metadata") or {}).get("annotations") or {}
            for key in ("labels", "annotations"):
                if not result["metadata"][key]:
                    result["metadata"].pop(key)

            def mutable_removed(spec: dict[str, Any]) -> dict[str, Any]:
                out = copy.deepcopy(spec)
                for key in ("activeDeadlineSeconds", "tolerations"):
                    out.pop(key, None)
                for key in ("containers", "initContainers"):
                    for c in out.get(key) or []:
                        if isinstance(c, dict):
                            c.pop("image", None)
                return out

            new_spec = new.get("spec") if isinstance(new.get("spec"), dict) else {}
            if mutable_removed(new_spec) != mutable_removed(old["spec"]):
                # The real message ends with a diff of the two specs, which the fake leaves out.
                raise invalid(
                    "Pod",
                    name,
                    [
                        FieldError(
                            "Forbidden",
                            "spec",
                            "pod updates may not change fields other than `spec.containers[*].image`,"
                            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                            "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
                            "be set to 1 if it was previously negative)",
                        )
                    ],
                )
            result["spec"] = new_spec
            if dry_run == "All":
                h._send_json(200, result)
                return
            stored = self.store.put(result)
        h._send_json(200, stored)

    def _apply_patch(
        self, req: RecordedRequest, old: dict[str, Any], name: str
    ) -> tuple[dict[str, Any], str | None]:
        """The patched object and the dryRun value: the patch types of `pkg/endpoints/handlers/patch.go`
        (`patchResource`), 415 for any other, 400 for a body that does not decode or renames the object."""
        ctype = req.content_type.split(";")[0].strip()
        if ctype not in (SMP, JSON_PATCH, MERGE_PATCH, APPLY_PATCH):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",  # noqa: E501 - the real server's text
            )
        if ctype == APPLY_PATCH:
            raise ApiError(500, "InternalError", "fake API server: server-side apply is not implemented")
        dry_run = req.q("dryRun")
        if dry_run not in (None, "All"):
            raise invalid(
                "PatchOptions.meta.k8s.io", "", [FieldError("NotSupported", "dryRun", '"All"', value=dry_run)]
            )
        try:
            patch = json.loads(req.body)
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        if ctype == JSON_PATCH:
            if not isinstance(patch, list):
                raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            new = json_patch(old, patch)
        elif not isinstance(patch, dict):
            raise bad_request("error decoding patch: patch is not a JSON object")
        elif ctype == SMP:
            new = strategic_merge(old, patch)
        else:
            new = merge_patch(old, patch)
        if not isinstance(new, dict):
            raise bad_request("the patch did not yield an object")
        new_name = (new.get("metadata") or {}).get("name")
        if new_name != name:
            raise bad_request(
                f"the name of the object ({new_name}) does not match the name on the URL ({name})"
            )
        return new, dry_run

    def _patch_ephemeral(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        if self.faults.ephemeral_disabled:
            # What a server without the subresource answers (cdebug detects exactly this: empty details.name).
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        with self.store.lock:
            old = self.store.get(ns, name)
            new, dry_run = self._apply_patch(req, old, name)
            for c in (new.get("spec") or {}).get("ephemeralContainers") or []:
                if isinstance(c, dict):
                    default_container(c, ephemeral=True)
            # dropNonEphemeralContainerUpdates: all but spec.ephemeralContainers silently stays as it was.
            result = copy.deepcopy(old)
            result["spec"]["ephemeralContainers"] = (new.get("spec") or {}).get("ephemeralContainers") or []
            if not result["spec"]["ephemeralContainers"]:
                result["spec"].pop("ephemeralContainers")
            errors = validate_ephemeral_update(old, result)
            if errors:
                raise invalid("Pod", name, errors)
            admission.admit_pod(self.store.namespace_labels(ns), result)
            if dry_run == "All":
                h._send_json(200, result)
                return
            before = {c["name"] for c in old["spec"].get("ephemeralContainers") or []}
            added = [
                c["name"] for c in result["spec"].get("ephemeralContainers") or [] if c["name"] not in before
            ]
            stored = self.store.put(result)
        for container in added:
            self.kubelet.ephemeral_added(ns, name, container)
        h._send_json(200, stored)

    # --- logs and streams (the kubelet's side, reached through the API server) ---

    def _container_status(self, pod: dict[str, Any], container: str) -> dict[str, Any] | None:
        for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
            for s in pod["status"].get(key) or []:
                if s["name"] == container:
                    return s
        return None

    def _pick_container(self, pod: dict[str, Any], wanted: str | None) -> str:
        """`validateContainer` (pkg/registry/core/pod/strategy.go)."""
        name = pod["metadata"]["name"]
        if not wanted:
            containers = pod["spec"]["containers"]
            if len(containers) == 1:
                return str(containers[0]["name"])
            names = " ".join(sorted(_all_container_names(pod)))
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{names}]")
        if wanted not in _all_container_names(pod):
            raise bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted

    def _log(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        """`pkg/kubelet/kubelet_pods.go` `validateContainerLogStatus`: a container that has not started has no
        log yet (400 naming why); a started one answers what it wrote."""
        pod = self.store.get(ns, name)
        container = self._pick_container(pod, req.q("container"))
        status = self._container_status(pod, container)
        waiting = ((status or {}).get("state") or {}).get("waiting")
        if status is None:
            raise bad_request(f'container "{container}" in pod "{name}" is not available')
        if waiting is not None and not (status.get("lastState") or {}).get("terminated"):
            reason = waiting.get("reason", "")
            why = "trying and failing to pull image" if reason in PULL_ERRORS else reason
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {why}')
        if self.docker is not None and self.kubelet.docker_backed(ns, name):
            if req.q("follow") in ("true", "1"):
                h._start_chunked("text/plain")
                import subprocess

                proc = subprocess.Popen(
                    ["docker", "logs", "-f", self.docker.container_name(ns, name, container)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )  # fmt: skip
                assert proc.stdout is not None
                try:
                    for chunk in iter(lambda: proc.stdout.read1(65536), b""):  # type: ignore[union-attr]
                        h._chunk(chunk)
                    h._end_chunked()
                finally:
                    proc.kill()
                    proc.wait()
                return
            h._send(200, self.docker.logs(ns, name, container), "text/plain")
            return
        spec = self.kubelet._spec(pod, container)
        h._send(200, self.images.lookup(spec.get("image", "")).logs.encode(), "text/plain")

    def _stream(self, h: _Handler, req: RecordedRequest, ns: str, name: str, sub: str) -> None:
        pod = self.store.get(ns, name)
        container = self._pick_container(pod, req.q("container"))
        if not pod["spec"].get("nodeName"):
            raise bad_request(f"pod {name} does not have a host assigned")
        if self.docker is None or not self.kubelet.docker_backed(ns, name):
            raise bad_request(
                f"the fake's simulated kubelet runs no processes: pod {name} is not docker-backed, "
                f"so there is nothing to {sub}"
            )
        if not self.docker.running(ns, name, container):
            raise bad_request(f'container "{container}" in pod "{name}" is not running')
        stdin = req.q("stdin") in ("true", "1")
        tty, refusal = self._stream_tty(pod, container, sub, req)
        if sub == "exec":
            command = req.query.get("command") or []
            if not command:
                raise bad_request("you must specify at least 1 command")
            argv = self.docker.exec_argv(ns, name, container, command, stdin, tty=tty)
            describe = f"error executing command {command}"
        else:
            argv = self.docker.attach_argv(ns, name, container, stdin)
            describe = "error attaching"
        ws = h.upgrade_websocket()
        if refusal:
            # The API server has answered the client's upgrade before its own connection to the kubelet fails
            # (`StreamTranslatorHandler.ServeHTTP`), so the refusal arrives as a status on the error channel.
            ws.send_status(streaming.internal_error_status(refusal))
            ws.close()
            return

        def on_exit(code: int) -> dict[str, Any] | None:
            if sub == "attach":
                return streaming.success_status()  # attach ends when the stream ends, with no exit code
            return None

        if tty:
            streaming.bridge_tty(ws, argv, stdin=stdin, describe=describe, on_exit=on_exit)
            return
        streaming.bridge(
            ws, argv, stdin=stdin, describe=describe, on_exit=on_exit, stdin_close_ends_input=sub == "exec"
        )

    def _port_forward(self, h: _Handler, req: RecordedRequest, ns: str, name: str) -> None:
        """`PortForwardREST.Connect` (`pkg/registry/core/pod/rest/subresources.go`) and `PortForwardLocation`
        (`pkg/registry/core/pod/strategy.go`): the pod must exist (404) and have a node (400); the kubelet then
        needs the pod's sandbox (`kubeGenericRuntimeManager.GetPortForward`: "failed to find sandboxID for
        pod ...", written by `streaming.WriteError` as a plain-text 500 that the API server passes on). Then
        the session of `portforward.py`, on a websocket GET or a SPDY POST."""
        pod = self.store.get(ns, name)
        if not pod["spec"].get("nodeName"):
            raise bad_request(f"pod {name} does not have a host assigned")
        if self.docker is None or not self.kubelet.docker_backed(ns, name):
            raise bad_request(
                f"the fake's simulated kubelet runs no processes: pod {name} is not docker-backed, "
                "so nothing listens to forward to"
            )
        sandbox, pid = self.docker.sandbox(ns, name)
        if not pid:
            uid = pod["metadata"].get("uid", "")
            h._send(500, f"failed to find sandboxID for pod {name}_{ns}({uid})".encode(), "text/plain")
            return
        transport: portforward.Transport
        if req.method == "GET" and self.faults.portforward_websockets_disabled:
            h._send(403, b"", "text/plain")
            return
        if req.method == "GET":
            ws = h.upgrade_websocket((portforward.WEBSOCKET_PROTOCOL,))
            transport = portforward.MessageTransport(ws.messages(), ws.send_binary, ws.close)
        else:
            h.upgrade_spdy(portforward.STREAM_PROTOCOL)
            transport = portforward.StreamTransport(h.rfile, h.wfile)
        log = portforward.SessionLog()
        with self.lock:
            self.portforward_sessions.append(log)
        docker = self.docker
        portforward.Session(transport, lambda port: docker.dial(ns, name, port), sandbox, log).serve()

    def _stream_tty(
        self, pod: dict[str, Any], container: str, sub: str, req: RecordedRequest
    ) -> tuple[bool, str]:
        """(whether the session has a TTY, the refusal's text or ""), as the kubelet decides:
        - `NewOptions` (`pkg/kubelet/cri/streaming/remotecommand/httpstream.go`): a request with tty drops
          stderr (one stream);
        - attach: the TTY is the container's own (`spec.tty`), whatever the request says, since a process's
          terminal cannot change after it started (`Kubelet.GetAttach`, `pkg/kubelet/kubelet_pods.go`);
        - the runtime's streaming server refuses tty with stderr (`validateAttachRequest`,
          `pkg/kubelet/cri/streaming/server.go`: gRPC InvalidArgument), which the kubelet answers 500 with the
          error's text (`streaming.WriteError`), the API server's SPDY client reports as "unable to upgrade
          connection: ..." (`SpdyRoundTripper.NewConnection`) and its stream translator as an internal error.
          That is what `kubectl attach -i` without a terminal meets on a container created with `tty: true`.
        """
        tty = req.q("tty") in ("true", "1")
        stderr = req.q("stderr") in ("true", "1") and not tty
        if sub == "attach":
            tty = bool(self.kubelet._spec(pod, container).get("tty"))
            if tty and stderr:
                return tty, (
                    "unable to upgrade connection: rpc error: code = InvalidArgument "
                    "desc = tty and stderr cannot both be true"
                )
        return tty, ""


def _all_container_names(pod: dict[str, Any]) -> set[str]:
    spec = pod["spec"]
    return {
        c["name"]
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key, [])
    }
