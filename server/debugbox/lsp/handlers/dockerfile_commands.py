"""`debugbox.generateDebugDockerfile`: create (or, when asked, regenerate) the Dockerfile.debug beside a
Dockerfile.

Arguments: one object `{"uri": <Dockerfile URI>, "regenerate"?: bool, "variant"?: "default" | "debug"}`.
Results (see docs/commands.md): `{"created": true, "uri"}`, `{"regenerated": true, "uri"}`, or
`{"created"|"regenerated": false, "uri", "reason"}` when nothing was written.

A user's file is never overwritten silently:
- a new file goes to the editor as one `workspace/applyEdit`: `CreateFile` (never overwriting, ignored if the
  file appeared meanwhile) plus the text, so the editor shows it unsaved and undoable; then
  `window/showDocument`;
- an existing file is left alone unless `regenerate` is true, and then its whole content is replaced by one
  `TextDocumentEdit` (versioned when the editor has it open), which the editor can undo;
- an editor that cannot apply such edits gets the file written directly only if it does not exist yet
  (exclusive create, inside the workspace); regenerating is refused with a message instead;
- a Dockerfile.debug that is a symbolic link leaving the workspace folder (outside any folder: the Dockerfile's
  own folder), or a dangling one, gets no edit at all: an error message names the link (`edge/writes.py`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.wire import Command
from debugbox.lsp.handlers.arguments import (
    CommandFailed,
    document_uri,
    invalid,
    object_argument,
    optional_bool,
    optional_choice,
    shown_failure,
)
from debugbox.lsp.handlers.workspace_edits import (
    CLIENT_TIMEOUT_SECONDS,
    apply_edit,
    document_edit,
    position_encoding,
    whole_text_range,
)
from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

COMMAND = Command.GENERATE_DEBUG_DOCKERFILE.value
EXAMPLE = '{"uri": "file:///project/Dockerfile", "regenerate": false}'
VARIANTS = ("default", "debug")
"""`debug`: for distroless finals, build on the vendor's `:debug` variant (which has a busybox shell)."""
#: A Dockerfile read from disk (not open in the editor) larger than this is refused rather than read.
MAX_DOCKERFILE_BYTES = 8 * 1024 * 1024
#: Waiting for the editor to apply an edit or show a document; a client that never answers must not hang us.


@dataclass(frozen=True)
class Request:
    uri: str
    path: Path
    text: str
    regenerate: bool
    use_debug_variant: bool


def _read_text(path: Path) -> str | None:
    from debugbox.edge import files

    if not path.exists():
        return None
    try:
        return files.read_text(path, MAX_DOCKERFILE_BYTES, errors="replace")
    except files.FileRefused as exc:
        raise invalid(COMMAND, str(exc)) from exc


def parse_request(ls: DebugboxLanguageServer, args: tuple[Any, ...]) -> Request:
    obj = object_argument(COMMAND, args, EXAMPLE)
    uri = document_uri(COMMAND, obj)
    regenerate = optional_bool(COMMAND, obj, "regenerate")
    variant = optional_choice(COMMAND, obj, "variant", VARIANTS)
    path = ls.path_of(uri)
    if path is None:
        raise invalid(COMMAND, f"only file: URIs can get a Dockerfile.debug beside them, got {uri}")
    doc = ls.open_document(uri)
    text = doc.source if doc is not None else _read_text(path)
    if text is None:
        raise invalid(COMMAND, f"unknown document {uri}: it is neither open in the editor nor a file on disk")
    if kind_of(uri, text, doc.language_id if doc else None) is not DocumentKind.DOCKERFILE:
        raise invalid(COMMAND, f"{path.name} is not a Dockerfile")
    return Request(uri, path, text, regenerate, variant == "debug")


def _render(ls: DebugboxLanguageServer, req: Request) -> tuple[str, str]:
    """(debug file name, its text); runs in a worker thread (parsing, and a compose-file lookup on disk)."""
    from debugbox.core.dockerfile.debug_image import debug_file_name, render_debug_dockerfile
    from debugbox.edge.workspace import find_app_image

    name = debug_file_name(req.path.name)
    if not name or "/" in name or "\\" in name or name in {".", ".."}:
        raise CommandFailed(f"{COMMAND}: refusing the generated file name {name!r}")
    try:
        content = render_debug_dockerfile(
            req.text,
            settings=ls.settings,
            app_image=find_app_image(req.path, ls.settings, _workspace_root(ls, req.path)),
            folder_name=req.path.parent.name,
            use_debug_variant=req.use_debug_variant,
        )
    except ValueError as exc:  # the Dockerfile itself is the problem (no FROM, a Windows image, …)
        raise CommandFailed(f"cannot generate {name} for {req.path.name}: {exc}") from exc
    return name, content


def _workspace_root(ls: DebugboxLanguageServer, target: Path) -> Path | None:
    """The workspace folder holding `target` (by its path as named, before links are followed)."""
    return next((root for root in ls.workspace_roots() if target.is_relative_to(root)), None)


def _check_target(ls: DebugboxLanguageServer, target: Path) -> None:
    """Refuse (with a message naming the link) a Dockerfile.debug that is a link leaving the workspace folder —
    or, outside any workspace folder, the Dockerfile's own folder — or a dangling link: no edit is sent for it."""
    from debugbox.edge.writes import WriteRefused, write_target

    try:
        write_target(target, _workspace_root(ls, target) or target.parent)
    except WriteRefused as exc:
        raise shown_failure(ls, COMMAND, str(exc)) from exc
    except OSError as exc:
        raise CommandFailed(f"{COMMAND}: cannot check {target}: {exc.strerror or exc}") from exc


async def _apply(
    ls: DebugboxLanguageServer, edit: lsp.WorkspaceEdit, label: str
) -> lsp.ApplyWorkspaceEditResult:
    return await apply_edit(ls, edit, label, COMMAND)


async def _show(ls: DebugboxLanguageServer, uri: str) -> None:
    if not ls.client.show_document:
        return
    try:
        await asyncio.wait_for(
            ls.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True)),
            CLIENT_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # showing is a courtesy; the file is there either way
        log.info("window/showDocument for %s failed: %s", uri, exc)


async def _create(ls: DebugboxLanguageServer, name: str, target: Path, content: str) -> dict[str, Any]:
    target_uri = from_fs_path(str(target)) or target.as_uri()
    if ls.client.can_create_files:
        create = lsp.CreateFile(
            uri=target_uri, options=lsp.CreateFileOptions(overwrite=False, ignore_if_exists=True)
        )
        insert = lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=target_uri, version=None),
            edits=[lsp.TextEdit(range=whole_text_range(""), new_text=content)],
        )
        result = await _apply(ls, lsp.WorkspaceEdit(document_changes=[create, insert]), f"Generate {name}")
        if not result.applied:
            reason = result.failure_reason or "the editor did not apply the edit"
            return {"created": False, "uri": target_uri, "reason": "rejected", "detail": reason}
        await _show(ls, target_uri)
        return {"created": True, "uri": target_uri}
    # The editor cannot create files through edits: write it ourselves, but only a new file inside the
    # workspace (exclusive create, under the rules of edge/writes.py).
    from debugbox.edge.writes import WriteRefused, write_file

    root = _workspace_root(ls, target)
    if root is None:
        raise CommandFailed(f"{COMMAND}: {target} is outside the workspace folders; not writing it")
    try:
        write_file(target, content.encode("utf-8"), root, replace=False)
    except WriteRefused as exc:
        raise shown_failure(ls, COMMAND, str(exc)) from exc
    except FileExistsError:
        return _exists(ls, name, target_uri)
    except OSError as exc:
        raise CommandFailed(f"{COMMAND}: cannot write {target}: {exc.strerror or exc}") from exc
    log.info("wrote %s (the editor cannot create files through edits)", target)
    await _show(ls, target_uri)
    return {"created": True, "uri": target_uri}


async def _regenerate(ls: DebugboxLanguageServer, name: str, target: Path, content: str) -> dict[str, Any]:
    target_uri = from_fs_path(str(target)) or target.as_uri()
    if not ls.client.apply_edit:
        ls.show_message(
            f"{name} exists and this editor cannot apply edits, so debugbox will not replace it. "
            f"Use `debugbox debug-image --force` in a terminal to overwrite it on purpose.",
            lsp.MessageType.Warning,
        )
        return {"regenerated": False, "uri": target_uri, "reason": "unsupported"}
    doc = ls.open_document(target_uri)
    old = doc.source if doc is not None else _read_text(target)
    if old is None:
        raise CommandFailed(f"{COMMAND}: {target.name} is not a regular file")
    if old == content:
        await _show(ls, target_uri)
        return {"regenerated": True, "uri": target_uri, "unchanged": True}
    replace = lsp.TextEdit(range=whole_text_range(old, position_encoding(ls)), new_text=content)
    edit = document_edit(ls, target_uri, doc.version if doc is not None else None, [replace])
    result = await _apply(ls, edit, f"Regenerate {name}")
    if not result.applied:
        reason = result.failure_reason or "the editor did not apply the edit"
        return {"regenerated": False, "uri": target_uri, "reason": "rejected", "detail": reason}
    await _show(ls, target_uri)
    return {"regenerated": True, "uri": target_uri}


def _exists(ls: DebugboxLanguageServer, name: str, target_uri: str) -> dict[str, Any]:
    ls.show_message(
        f"{name} already exists and was left unchanged. To replace its content, choose "
        f'"Regenerate {name}" (or run {COMMAND} with "regenerate": true); the editor can undo that.'
    )
    return {"created": False, "uri": target_uri, "reason": "exists"}


async def generate_debug_dockerfile(
    ls: DebugboxLanguageServer, args: tuple[Any, ...], locks: dict[str, asyncio.Lock]
) -> dict[str, Any]:
    req = parse_request(ls, args)
    name, content = await asyncio.to_thread(_render, ls, req)
    target = req.path.with_name(name)
    target_uri = from_fs_path(str(target)) or target.as_uri()
    # One generation per target at a time: two concurrent "create" edits would both insert the text.
    lock = locks.setdefault(target_uri, asyncio.Lock())
    async with lock:
        _check_target(ls, target)
        exists = ls.file_exists(target_uri)
        if exists and not req.regenerate:
            return _exists(ls, name, target_uri)
        if exists:
            return await _regenerate(ls, name, target, content)
        return await _create(ls, name, target, content)


def register(server: DebugboxLanguageServer) -> None:
    locks: dict[str, asyncio.Lock] = {}

    @server.command(COMMAND)
    async def generate(ls: DebugboxLanguageServer, *args: Any) -> dict[str, Any]:
        return await generate_debug_dockerfile(ls, args, locks)
