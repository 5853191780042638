"""The debugbox language server: its state (settings, client features, analysis cache, code-lens providers)
and the `create_server()` factory that registers every handler module.

This is the protocol shell's core. It holds state and small helpers shared by the handlers; the handlers
(`lsp/handlers/`, one module per LSP method family) hold the behaviour; the analysers (`core/dockerfile/`,
`core/kubernetes/`) and the runtime (`edge/`) are imported lazily by whoever needs them, so `debugbox lsp`
starts with nothing heavier than pygls loaded.

Over 400 lines because `DebugboxProtocol` (the pygls overrides) and the serializer warm-up belong with the
server state they patch; the overrides are one concern (see `PYGLS_PRIVATE`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from debugbox import __version__
from debugbox.core.analysis import LensAnchor
from debugbox.core.documents import DocumentKind
from debugbox.core.settings import Settings, parse_settings
from debugbox.lsp.analysis_service import AnalysisService, AnalyzerSource, Snapshot
from debugbox.lsp.cancellation import Cancellations
from debugbox.lsp.client_features import ClientFeatures
from debugbox.lsp.framing import FramedReader
from debugbox.lsp.log import ClientLogHandler, set_level
from debugbox.lsp.log import setup_logging as setup_logging
from debugbox.lsp.text_changes import apply_change

log = logging.getLogger(__name__)

LensProvider = Callable[["DebugboxLanguageServer", str, LensAnchor], Sequence[lsp.CodeLens]]
"""Turns a lens anchor into code lenses; must not block (use cached live state, refresh when it changes)."""

SettingsListener = Callable[["DebugboxLanguageServer"], None]


#: At most one "Error in server" message per this many seconds reaches the user; the log keeps every one.
ERROR_MESSAGE_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class InvalidMessage:
    """A request or notification whose params do not match the LSP schema for its method."""

    id: Any
    method: str
    problem: str
    is_request: bool


def _describe(exc: Exception) -> str:
    # cattrs explains structure errors per field ("required field missing @ $.params.range"); use that if it
    # can.
    try:
        import cattrs

        return "; ".join(cattrs.transform_error(exc))[:500]  # type: ignore[arg-type]
    except Exception:
        return str(exc)[:500] or type(exc).__name__


def _drop_context_diagnostics(data: dict[str, Any]) -> None:
    # A code-action request repeats the client's diagnostics for the range (for a whole 1,000-document
    # manifest: hundreds). Decoding them into lsprotocol objects costs 20-100 ms on the event loop, and
    # debugbox never reads them: the cached analysis knows its own findings by range. So they are dropped
    # before decoding.
    params = data.get("params")
    context = params.get("context") if isinstance(params, dict) else None
    if isinstance(context, dict) and isinstance(context.get("diagnostics"), list):
        context["diagnostics"] = []


#: The private pygls pieces used here (no public equivalent in pygls 2.1): the result type pygls remembers
#: for each request it sent (to decode the client's answer), its response sender, and its serializer (used
#: to warm up cattrs exactly as pygls will use it). Methods overridden: `OVERRIDDEN`.
PYGLS_PRIVATE = ("_result_types", "_send_response", "_serialize_message")
OVERRIDDEN = ("structure_message", "handle_message", "lsp_initialize", "lsp_text_document__did_change")


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate (a JSON `\\ud800` escape: json.loads pairs the valid ones) replaced by
    U+FFFD. Both are one UTF-16 code unit, so every position the analysis reports stays the editor's; the
    analysers, libyaml and anything encoding to UTF-8 fail on a lone surrogate."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


class DebugboxProtocol(LanguageServerProtocol):
    """pygls' protocol with these changes.

    - A request with malformed params gets an InvalidParams *response*. pygls rejects such a message while
      decoding it, before it knows to answer, so the client would wait forever for that request id; here
      decoding failures of known methods become an `InvalidMessage` that `handle_message` answers (requests)
      or logs (notifications).
    - Positions are always UTF-16. The analysers compute UTF-16 columns (the LSP default), so the server
      does not accept a client's offer of UTF-8 or UTF-32 (Neovim offers UTF-8 first).
    - Code-action requests are decoded without their `context.diagnostics` (unused, and slow to decode).
    - Incremental changes are applied by `lsp/text_changes.py` (LSP line breaks, a few ms on an 80,000-line
      document instead of pygls' tens of ms), and a change to a document that is not open is ignored with a
      warning instead of failing.
    - A `$/cancelRequest` for a command registered in `cancellations` stops that command's work (pygls would
      only drop its answer and let the work run on).

    pygls offers no public hook for these, so this overrides its methods and uses a few private pieces
    (`PYGLS_PRIVATE`); pyproject.toml pins pygls to the minor series tested, and
    `tests/unit/test_server_pygls_internals.py` fails naming any of them that a pygls release drops.
    """

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.converter = converter
        """The cattrs converter pygls was built with (kept here: pygls only has it as `_converter`)."""
        self.cancellations = Cancellations()
        """Running commands that stop themselves on `$/cancelRequest` (`lsp/cancellation.py`)."""

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: lsp.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        doc = self.workspace.text_documents.get(unquote(params.text_document.uri))
        if doc is None:
            log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
            return
        text = doc.source
        for change in params.content_changes:
            text = apply_change(text, change)
        doc.apply_change(lsp.TextDocumentContentChangeWholeDocument(text=text))
        doc.version = params.text_document.version
        if (user_handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield user_handler, (params,), None

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> Generator[Any, Any, lsp.InitializeResult]:
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))

    def structure_message(self, data: dict[str, Any]) -> Any:
        """json.loads' object hook: called for *every* object of a message, innermost first.

        So it must be cheap for plain objects, and it cannot tell a message from a nested value that merely
        has a "jsonrpc" key (a command argument, a setting): whatever does not decode as a message stays a
        plain dict. A known method with bad params becomes an `InvalidMessage`; `handle_message` deals with
        both.
        """
        if "jsonrpc" not in data:
            return data
        method = data.get("method")
        try:
            if "error" in data and "id" in data:
                return self.converter.structure(data, lsp.ResponseErrorMessage)
            if isinstance(method, str):
                message_type = self.get_message_type(method)
                if message_type is not None:
                    if method == lsp.TEXT_DOCUMENT_CODE_ACTION:
                        _drop_context_diagnostics(data)
                    try:
                        return self.converter.structure(data, message_type)
                    except Exception as exc:
                        return InvalidMessage(data.get("id"), method, _describe(exc), "id" in data)
                generic = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
                return self.converter.structure(data, generic)
            if "id" in data and "result" in data:
                response_type = self._result_types.pop(data["id"], None) or JsonRPCResponseMessage
                return self.converter.structure(data, response_type)
        except Exception:
            return data
        return data

    def handle_message(self, message: Any) -> None:
        if isinstance(message, dict):
            self._handle_undecodable(message)
            return
        if not isinstance(message, InvalidMessage):
            if getattr(message, "method", None) == lsp.CANCEL_REQUEST and self.cancellations.cancel(
                getattr(getattr(message, "params", None), "id", None)
            ):
                return  # the command stops its work and answers itself (see lsp/cancellation.py)
            super().handle_message(message)
            return
        kind = "request" if message.is_request else "notification"
        log.warning("invalid %s %s: %s", kind, message.method, message.problem)
        if message.is_request:
            self._send_error(
                message.id,
                lsp.ErrorCodes.InvalidParams,
                f"invalid params for {message.method}: {message.problem}",
            )

    def _handle_undecodable(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        log.warning("ignoring a message that is not valid JSON-RPC (method %r)", str(method)[:100])
        if "id" in message and "method" in message:
            self._send_error(message["id"], lsp.ErrorCodes.InvalidRequest, "not a valid JSON-RPC request")

    def _send_error(self, msg_id: Any, code: lsp.ErrorCodes, text: str) -> None:
        # Only ids a client can match (JSON-RPC allows numbers and strings) are answered.
        if isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
            self._send_response(msg_id, error=lsp.ResponseError(code=code, message=text))


class DebugboxLanguageServer(LanguageServer):
    """pygls server plus debugbox's state. Handlers receive it as `ls`."""

    def __init__(self, *, analyzers: Mapping[DocumentKind, AnalyzerSource] | None = None) -> None:
        super().__init__(
            "debugbox",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=DebugboxProtocol,
        )
        self._last_error_message = -ERROR_MESSAGE_INTERVAL_SECONDS
        self._warmed_up = False
        self.client = ClientFeatures()
        """What the editor can do; set at `initialize`."""
        self.workspace_trusted = True
        """False when the editor said the workspace is not trusted (`initializationOptions.workspaceTrusted`,
        sent by the VS Code extension in Restricted Mode); editors without workspace trust say nothing."""
        self.analyses = AnalysisService(self.snapshot, analyzers=analyzers)
        """Per-document analysis scheduler and cache; `handlers.diagnostics` sets its publisher."""
        self.lens_providers: dict[str, LensProvider] = {}
        """Code-lens providers by `LensAnchor.purpose` (`dockerfile-final-from`, `k8s-container`, …)."""
        self.settings_listeners: list[SettingsListener] = []
        """Called on the event loop after the settings changed (e.g. to drop cached engine clients)."""
        self.client_log = ClientLogHandler(self.window_log_message)
        self.settings_problems: list[str] = []
        """Messages for setting values that were ignored the last time settings were applied."""
        self.watch_registration: asyncio.Task[None] | None = None
        """The file-watch registration sent once initialized (`handlers/watched_files.py`); kept so it runs out."""

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls' stdio server, reading through `FramedReader`: a malformed header is dropped, not fatal."""
        reader = FramedReader(stdin or sys.stdin.buffer)
        super().start_io(reader, stdout)  # type: ignore[arg-type]  # pygls calls only readline/read

    # -- settings

    @property
    def settings(self) -> Settings:
        return self.analyses.settings

    def apply_settings(
        self, raw: Any, *, origin: str = "initializationOptions", initial: bool = False
    ) -> bool:
        """Parse `raw` (the `debugbox` section) and use it; re-analyse open documents if anything changed.

        `initial` is for `initialize`, when nothing is open yet and no request may be sent to the client.
        """
        settings, problems = parse_settings(raw)
        # Shown once per distinct set of problems: editors re-send settings on every unrelated change.
        if problems and problems != self.settings_problems:
            self.show_message(
                "debugbox: ignored invalid settings (using defaults): " + "; ".join(problems),
                lsp.MessageType.Warning,
            )
        self.settings_problems = problems
        set_level(settings.log_level)
        if not self.analyses.set_settings(settings):
            log.debug("settings from %s: unchanged", origin)
            return False
        log.info("settings from %s applied", origin)
        if initial:
            return True
        for listener in list(self.settings_listeners):
            try:
                listener(self)
            except Exception:
                log.exception("a settings listener failed")
        self.reanalyse_open_documents()
        self.refresh_code_lenses()
        return True

    # -- documents

    def open_document(self, uri: str) -> TextDocument | None:
        """The editor's copy of `uri` if it is open.

        pygls keys documents by their unquoted URI. A `file:` URI built here (e.g. for Dockerfile.debug) may
        be spelled differently from the editor's (percent-encoding, drive letters), so on a miss open
        documents are compared by path too: regenerating must edit the editor's buffer, not the file under it.
        """
        try:
            documents = self.workspace.text_documents
        except RuntimeError:  # not initialized yet
            return None
        doc: TextDocument | None = documents.get(unquote(uri))
        if doc is not None or not uri.startswith("file:"):
            return doc
        path = self.path_of(uri)
        matches: list[TextDocument] = [
            d for d in documents.values() if d.uri.startswith("file:") and self.path_of(d.uri) == path
        ]
        return matches[0] if matches else None

    def snapshot(self, uri: str) -> Snapshot | None:
        doc = self.open_document(uri)
        if doc is None:
            return None
        return Snapshot(uri, doc.version, without_lone_surrogates(doc.source), doc.language_id)

    def reanalyse_open_documents(self) -> None:
        try:
            uris = [doc.uri for doc in self.workspace.text_documents.values()]
        except RuntimeError:
            return
        for uri in uris:
            self.analyses.schedule(uri)

    @staticmethod
    def path_of(uri: str) -> Path | None:
        """The local path of a `file:` URI, else None."""
        if not uri.startswith("file:"):
            return None
        path = to_fs_path(uri)
        return Path(path) if path else None

    def file_exists(self, uri: str) -> bool:
        """Whether `uri` exists on disk or is open in the editor (only `file:` URIs are looked up on disk)."""
        if self.open_document(uri) is not None:
            return True
        path = self.path_of(uri)
        try:
            return path is not None and path.exists()
        except OSError:
            return False

    def workspace_roots(self) -> list[Path]:
        """Local folders of the workspace (root URI and workspace folders)."""
        roots: list[Path] = []
        try:
            ws = self.workspace
        except RuntimeError:
            return roots
        uris = [f.uri for f in ws.folders.values()]
        if ws.root_uri:
            uris.append(ws.root_uri)
        for uri in uris:
            path = self.path_of(uri)
            if path is not None and path not in roots:
                roots.append(path)
        return roots

    def workspace_root_of(self, path: Path) -> Path | None:
        """The workspace folder holding `path` (where searches upwards, e.g. for compose files, stop)."""
        return next((r for r in self.workspace_roots() if path.is_relative_to(r)), None)

    # -- talking to the editor

    def cancellable(self) -> AbstractContextManager[threading.Event]:
        """While the request being handled runs: an event the editor's `$/cancelRequest` for it sets (the
        command then stops its work and answers for itself; `lsp/cancellation.py`)."""
        proto = self.protocol
        assert isinstance(proto, DebugboxProtocol)
        return proto.cancellations.watch(proto.msg_id)

    def is_server_command(self, name: str) -> bool:
        return name in self.protocol.fm.commands

    def show_message(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def warm_up_once(self) -> None:
        """Once per session, in a worker thread: import the other analysers and let cattrs build its
        serializers.

        Deferred until the first diagnostics are published: done at `initialized` it would compete for the GIL
        with the first document's analysis and make it slower, not faster (measured: 35 → 57-96 ms for a small
        Dockerfile). After the first publish the server is usually idle while the user reads.
        """
        if self._warmed_up:
            return
        self._warmed_up = True

        def warm_up() -> None:
            self.analyses.load_analyzers()
            self.warm_up_serialization()

        asyncio.get_running_loop().run_in_executor(None, warm_up)

    def warm_up_serialization(self) -> None:
        """Let cattrs generate its (de)serializers for the messages debugbox exchanges most, ahead of time.

        cattrs builds them on first use, which adds 10-20 ms to the first code action, hover and diagnostics
        of a session. Called in a worker thread by `warm_up_once`; failures only cost that latency.
        """
        uri = "file:///warm-up/Dockerfile"
        position = {"line": 0, "character": 0}
        rng = {"start": position, "end": position}
        diagnostic = {"range": rng, "message": "m", "severity": 1, "code": "DBX000", "source": "debugbox"}
        doc = {"uri": uri}
        incoming = {
            lsp.TEXT_DOCUMENT_DID_OPEN: {
                "textDocument": {**doc, "languageId": "dockerfile", "version": 1, "text": ""}
            },
            lsp.TEXT_DOCUMENT_DID_CHANGE: {
                "textDocument": {**doc, "version": 2},
                "contentChanges": [{"range": rng, "text": "x"}, {"text": "x"}],
            },
            lsp.TEXT_DOCUMENT_CODE_ACTION: {
                "textDocument": doc,
                "range": rng,
                "context": {"diagnostics": [diagnostic], "only": ["quickfix"]},
            },
            lsp.TEXT_DOCUMENT_HOVER: {"textDocument": doc, "position": position},
            lsp.TEXT_DOCUMENT_CODE_LENS: {"textDocument": doc},
        }
        range_ = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
        diag = lsp.Diagnostic(range=range_, message="m", severity=lsp.DiagnosticSeverity.Error, code="DBX000")
        command = lsp.Command(title="t", command="debugbox.x", arguments=[{"uri": uri}])
        edit = lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=1),
                    edits=[lsp.TextEdit(range=range_, new_text="x")],
                )
            ]
        )
        action = lsp.CodeAction(
            title="t", kind="quickfix", diagnostics=[diag], edit=edit, command=command, is_preferred=True
        )
        disabled = lsp.CodeAction(title="t", disabled=lsp.CodeActionDisabled(reason="r"))
        hover = lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="v"), range=range_)
        outgoing: dict[str, Any] = {
            lsp.TEXT_DOCUMENT_CODE_ACTION: [action, disabled],
            lsp.TEXT_DOCUMENT_HOVER: hover,
            lsp.TEXT_DOCUMENT_CODE_LENS: [lsp.CodeLens(range=range_, command=command)],
        }
        proto = self.protocol
        try:
            for method, params in incoming.items():
                message = {"jsonrpc": "2.0", "id": 0, "method": method, "params": params}
                if method.startswith("textDocument/did"):
                    del message["id"]
                proto.structure_message(message)
            for method, result in outgoing.items():
                response_type = proto.get_result_type(method)
                if response_type is not None:
                    json.dumps(
                        response_type(id=0, result=result, jsonrpc="2.0"), default=proto._serialize_message
                    )
            publish = lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[diag], version=1)
            notification = proto.get_message_type(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if notification is not None:
                json.dumps(
                    notification(method=lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, params=publish, jsonrpc="2.0"),
                    default=proto._serialize_message,
                )
        except Exception:
            log.debug("warming up the serializers failed", exc_info=True)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Out-of-band errors (a failing notification handler, an undecodable message).

        pygls has logged them with their traceback; the user is told too, but rarely, so that a misbehaving
        client cannot flood the editor with messages.
        """
        from pygls.exceptions import FeatureRequestError

        if source is FeatureRequestError:
            return  # a request's error already went back to the client in its response
        now = time.monotonic()
        if now - self._last_error_message < ERROR_MESSAGE_INTERVAL_SECONDS:
            return
        self._last_error_message = now
        self.show_message(
            f"debugbox: internal error ({error}); details are in the server log", lsp.MessageType.Error
        )

    def refresh_code_lenses(self) -> None:
        """Ask the editor to re-request code lenses (live state or settings changed), if it supports that."""
        if self.client.code_lens_refresh:
            self.workspace_code_lens_refresh(None)


def create_server(
    *, analyzers: Mapping[DocumentKind, AnalyzerSource] | None = None
) -> DebugboxLanguageServer:
    """A server with every handler module registered; `analyzers` replaces the default analyser per kind
    (tests)."""
    from debugbox.lsp.handlers import register_all

    # Analysis runs in worker threads and holds the GIL in pure Python. With the default 5 ms switch interval
    # a request arriving meanwhile waits up to 5 ms per hand-over (and needs several); 1 ms keeps its p95
    # about 4x lower at a negligible cost to the analysis.
    sys.setswitchinterval(0.001)
    server = DebugboxLanguageServer(analyzers=analyzers)
    register_all(server)
    logging.getLogger("debugbox").addHandler(server.client_log)
    return server
