"""The main LSP suite's plumbing: `debugbox lsp` in a subprocess, driven over stdio by a client that behaves
like an editor.

`EditorClient` is pytest-lsp's client plus what an editor does that pytest-lsp leaves out: it keeps the text
of the documents it opened, *applies* `workspace/applyEdit` (to those open documents, sending `didChange` like
an editor; otherwise to files on disk, honouring `CreateFile` options), and records every published
diagnostics notification with its version. Fixtures start one server per test in a temporary workspace folder.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import pytest_lsp
from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER_COMMAND = [sys.executable, "-m", "debugbox", "lsp"]
#: Generous: the machines are shared and noisy; a healthy run answers in milliseconds.
WAIT_SECONDS = 20.0
#: How often `EditorClient.wait_for` looks at its condition again when no diagnostics notification wakes it.
RECHECK_SECONDS = 0.05
#: For `initialize` (a server start-up, under coverage, on a loaded 2-core machine) and `shutdown`.
SESSION_SECONDS = 60.0
#: How long a server may take to exit once its input is closed (after `exit`), coverage data written included.
EXIT_SECONDS = 30.0


def vscode_capabilities(*, open_terminal: bool = True) -> lsp.ClientCapabilities:
    """VS Code's recorded capabilities (as pytest-lsp ships them), plus debugbox's experimental opt-in."""
    caps = client_capabilities("visual-studio-code")
    if open_terminal:
        caps.experimental = {"debugbox": {"openTerminal": True}}
    return caps


def bare_capabilities() -> lsp.ClientCapabilities:
    """A client that declares nothing: no applyEdit, no documentChanges, no showDocument, no configuration."""
    return lsp.ClientCapabilities()


def _position_offset(text: str, pos: lsp.Position) -> int:
    # Lines as LSP counts them: \n, \r\n and \r only (`str.splitlines` also splits at NEL, U+2028, ...).
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    if pos.line >= len(lines):
        return len(text)
    return sum(len(line) for line in lines[: pos.line]) + min(
        pos.character, len(lines[pos.line].rstrip("\r\n"))
    )


def apply_text_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP text edits (ASCII positions are enough for these tests) from the end backwards."""
    spans = sorted(
        (
            (_position_offset(text, e.range.start), _position_offset(text, e.range.end), e.new_text)
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


class EditorClient(LanguageClient):
    """pytest-lsp's client, applying edits and keeping open documents like an editor (see the module
    docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applied_edits: list[lsp.ApplyWorkspaceEditParams] = []
        self.accept_edits = True
        self.documents: dict[str, tuple[int, str]] = {}
        self.published: list[lsp.PublishDiagnosticsParams] = []
        self.code_lens_refreshes = 0
        self.registrations: list[lsp.Registration] = []
        """What the server registered dynamically (`client/registerCapability`), as an editor accepts it."""
        self._published_event = asyncio.Event()

    # -- lifecycle: bounded, so that a server that never answers fails its test instead of hanging the suite

    async def initialize_session(self, params: lsp.InitializeParams) -> lsp.InitializeResult:
        return await asyncio.wait_for(super().initialize_session(params), SESSION_SECONDS)

    async def shutdown_session(self) -> None:
        await asyncio.wait_for(super().shutdown_session(), SESSION_SECONDS)

    async def stop(self) -> None:
        """pygls waits for the server process without end. Close its input as an editor does, give it
        `EXIT_SECONDS`, then abort it (with PYTHONFAULTHANDLER set, as scripts/test does, it prints every
        thread's stack, forwarded to the test's stderr), kill it, and fail the test: a server that does not exit
        is a bug, and must not hang the suite."""
        server = self._server
        hung = False
        if server is not None and server.returncode is None:
            if server.stdin is not None and not server.stdin.is_closing():
                server.stdin.close()
            try:
                await asyncio.wait_for(asyncio.shield(server.wait()), EXIT_SECONDS)
            except TimeoutError:
                hung = True
                server.send_signal(signal.SIGABRT)
                try:
                    await asyncio.wait_for(asyncio.shield(server.wait()), 5)
                except TimeoutError:
                    server.kill()
                    await server.wait()
        await super().stop()
        if hung:
            raise AssertionError(
                f"the language server (pid {server.pid if server else '?'}) had not exited {EXIT_SECONDS:.0f} s "
                "after its input was closed; its threads' stacks are in the captured stderr"
            )

    # -- documents

    def open(self, path: Path, text: str | None = None, language_id: str = "dockerfile") -> str:
        uri = path.as_uri()
        text = path.read_text() if text is None else text
        self.documents[uri] = (1, text)
        self.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Replace the whole text of an open document; returns the new version."""
        version = self.documents[uri][0] + 1
        self.documents[uri] = (version, text)
        self.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return version

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )

    # -- diagnostics

    def record_diagnostics(self, params: lsp.PublishDiagnosticsParams) -> None:
        self.published.append(params)
        self.diagnostics[params.uri] = params.diagnostics
        self._published_event.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
        """Wait until `predicate()` is truthy, re-checking after every published diagnostics notification and at
        least every `RECHECK_SECONDS`: a predicate on anything else (a log message, a shown message, a
        registration) came true without a diagnostics notification, and was only seen again at `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (value := predicate()):
            self._published_event.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            try:
                await asyncio.wait_for(self._published_event.wait(), min(remaining, RECHECK_SECONDS))
            except TimeoutError:
                continue
        return value

    async def diagnostics_for(self, uri: str, version: int | None) -> list[lsp.Diagnostic]:
        """The first diagnostics published for `uri` at `version`."""
        params: lsp.PublishDiagnosticsParams = await self.wait_for(
            lambda: next((p for p in self.published if p.uri == uri and p.version == version), None)
        )
        return list(params.diagnostics)

    # -- edits

    async def choose(self, action: lsp.CodeAction) -> lsp.CodeAction:
        """What an editor that resolves code actions (VS Code, Neovim) does when the user picks `action`: one
        that came without an edit but with `data` is completed with `codeAction/resolve` first."""
        if action.edit is not None or action.data is None:
            return action
        return await self.code_action_resolve_async(action)

    async def workspace_apply_edit_async_local(self, edit: lsp.WorkspaceEdit) -> bool:
        """Apply an edit the way the editor applies a chosen code action's edit (no server round trip)."""
        return self.apply(lsp.ApplyWorkspaceEditParams(edit=edit), record=False).applied

    def apply(
        self, params: lsp.ApplyWorkspaceEditParams, record: bool = True
    ) -> lsp.ApplyWorkspaceEditResult:
        if record:
            self.applied_edits.append(params)
        if not self.accept_edits:
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="the user said no")
        edit = params.edit
        changes: list[Any] = list(edit.document_changes or [])
        for uri, edits in (edit.changes or {}).items():
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None)
            changes.append(lsp.TextDocumentEdit(text_document=ident, edits=list(edits)))
        for change in changes:
            if isinstance(change, lsp.CreateFile):
                path = Path(_fs_path(change.uri))
                options = change.options or lsp.CreateFileOptions()
                if path.exists():
                    if options.overwrite:
                        path.write_text("")
                    elif not options.ignore_if_exists:
                        return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=f"{path} exists")
                else:
                    path.write_text("")
            elif isinstance(change, lsp.TextDocumentEdit):
                uri = change.text_document.uri
                edits = [e for e in change.edits if isinstance(e, lsp.TextEdit)]
                if uri in self.documents:
                    version, text = self.documents[uri]
                    if change.text_document.version is not None and change.text_document.version != version:
                        return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
                    self.replace(uri, apply_text_edits(text, edits))
                else:
                    path = Path(_fs_path(uri))
                    path.write_text(apply_text_edits(path.read_text(), edits))
            else:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=f"unsupported {change!r}")
        return lsp.ApplyWorkspaceEditResult(applied=True)


def terminal_env(params: Any) -> dict[str, str]:
    """The `env` of a `debugbox/openTerminal` request as a dict: the client library gives a JSON object as its own
    named-tuple-like object (`dict()` of it fails), and none at all when the request has no `env`."""
    env = getattr(params, "env", None) or {}
    return dict(env._asdict() if hasattr(env, "_asdict") else env)


def _fs_path(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)


def _fix_code_action_union(converter: Any) -> None:
    """Tell `CodeAction` from `Command` the way editors do.

    lsprotocol 2025.0.0 decodes any item with a `command` key as a `Command`, so a `CodeAction` that carries a
    `command` object (debugbox's "Generate Dockerfile.debug") would come back mangled. VS Code checks
    `typeof item.command === "string"`; so does this hook.
    """

    def structure(obj: Any, _: type) -> lsp.Command | lsp.CodeAction:
        if isinstance(obj, dict) and isinstance(obj.get("command"), str):
            return converter.structure(obj, lsp.Command)  # type: ignore[no-any-return]
        return converter.structure(obj, lsp.CodeAction)  # type: ignore[no-any-return]

    converter.register_structure_hook(Union[lsp.Command, lsp.CodeAction], structure)  # noqa: UP007


def make_editor_client() -> EditorClient:
    client = EditorClient(converter_factory=default_converter)
    _fix_code_action_union(client.protocol._converter)
    defaults = {
        k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k != lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
    }
    register_lsp_features(client, defaults)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(c: EditorClient, params: lsp.PublishDiagnosticsParams) -> None:
        c.record_diagnostics(params)

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(c: EditorClient, params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        return c.apply(params)

    @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(c: EditorClient, params: None) -> None:
        c.code_lens_refreshes += 1

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register_capability(c: EditorClient, params: lsp.RegistrationParams) -> None:
        c.registrations.extend(params.registrations)

    return client


CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_editor_client)


def initialize_params(
    workspace: Path, capabilities: lsp.ClientCapabilities, options: Any = None
) -> lsp.InitializeParams:
    return lsp.InitializeParams(
        capabilities=capabilities,
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
        initialization_options=options,
        client_info=lsp.ClientInfo(name="debugbox-tests", version="1"),
    )


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: EditorClient, tmp_path: Path) -> Any:
    """A VS Code-like editor with the temporary folder `tmp_path` open as its workspace."""
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def bare_client(lsp_client: EditorClient, tmp_path: Path) -> Any:
    """A client that declares no capabilities at all, with `tmp_path` as its workspace."""
    await lsp_client.initialize_session(initialize_params(tmp_path, bare_capabilities()))
    yield
    await lsp_client.shutdown_session()
