"""`workspace/didChangeWatchedFiles`: a file an open document was analysed with changed on disk, so that
document is analysed again and its diagnostics published without waiting for its next edit.

Today that is a compose file's inputs (`ComposeAnalysis.inputs`: its services' `build:` Dockerfiles, read or
looked for, and the files it includes or extends): editing `api/Dockerfile` to a distroless base makes the
compose file's shell-form health check an error at once. Editors watch files for the server when asked:
`register_watchers` sends `client/registerCapability` for Dockerfiles and YAML files once the client is
initialized, if it supports dynamic registration for this method; an editor that refuses or never answers
is logged, not waited for (`REGISTER_TIMEOUT_SECONDS`). Clients that watch files on their own (VS Code's
`synchronize.fileEvents`) send the same notification.
"""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types as lsp

from debugbox.lsp.server import DebugboxLanguageServer

log = logging.getLogger(__name__)

REGISTRATION_ID = "debugbox-watched-files"
#: What the server asks editors to watch: every Dockerfile spelling, and YAML (compose files and their includes).
WATCHED_GLOBS = ("**/*[Dd]ockerfile*", "**/*.{yaml,yml}")
#: An editor that never answers the registration must not hold anything up.
REGISTER_TIMEOUT_SECONDS = 10.0


def documents_depending_on(ls: DebugboxLanguageServer, changed: set[str]) -> list[str]:
    """The open documents whose latest analysis used one of the `changed` paths."""
    from debugbox.core.compose.analysis import ComposeAnalysis

    out: list[str] = []
    try:
        uris = [doc.uri for doc in ls.workspace.text_documents.values()]
    except RuntimeError:  # no workspace yet
        return out
    for uri in uris:
        result = ls.analyses.cached(uri)
        analysis = result.analysis if result is not None else None
        if isinstance(analysis, ComposeAnalysis) and not analysis.inputs.isdisjoint(changed):
            out.append(uri)
    return out


async def register_watchers(ls: DebugboxLanguageServer) -> None:
    """Ask the editor to watch the files analyses depend on, when it supports registering that."""
    workspace = ls.client_capabilities.workspace if ls.client_capabilities else None
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    options = lsp.DidChangeWatchedFilesRegistrationOptions(
        watchers=[lsp.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_GLOBS]
    )
    params = lsp.RegistrationParams(
        registrations=[
            lsp.Registration(
                id=REGISTRATION_ID, method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
            )
        ]
    )
    try:
        await asyncio.wait_for(ls.client_register_capability_async(params), REGISTER_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning(
            "the editor did not answer the file-watch registration within %.0f s", REGISTER_TIMEOUT_SECONDS
        )
    except Exception as exc:  # an error response: diagnostics then follow the next edit only
        log.warning("the editor refused to watch files for debugbox: %s", exc)


def register(server: DebugboxLanguageServer) -> None:
    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: DebugboxLanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        changed = set()
        for change in params.changes:
            path = ls.path_of(change.uri)
            if path is not None:
                changed.add(os.path.abspath(path))
        uris = documents_depending_on(ls, changed)
        if uris:
            log.debug("re-analysing %s: %d watched file(s) changed", ", ".join(uris), len(changed))
            ls.analyses.refresh(uris)
            ls.refresh_code_lenses()
