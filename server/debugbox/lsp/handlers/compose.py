"""Compose files in the editor: the analyser (with the `build:` Dockerfiles read beside the file) and the
per-service code lenses.

- The analyser is the pure `core.compose.analysis.analyze`, given the Dockerfiles of the `build:` services
  (read by `edge.workspace.build_dockerfiles`, bounded by the workspace folder holding the compose file, or
  its own folder outside any): their facts make the diagnostics and the hover on a service.
- Lenses on each service key: "Debug running container (N)" when containers with the compose labels of this
  file's project and that service run (the same watch, picker and terminal as the Dockerfile lens,
  `container_lens`), and "Generate Dockerfile.debug" for a service whose `build:` Dockerfile debugbox read.
  An included service's lens sits on its `include:` entry and is titled "Debug <service> (N)".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from debugbox.core.analysis import Analysis, LensAnchor
from debugbox.core.documents import DocumentKind, is_dockerfile_name
from debugbox.core.settings import Settings
from debugbox.core.wire import Command
from debugbox.lsp.handlers.container_lens import TargetWatch, debug_lens
from debugbox.lsp.handlers.lens_watch import register_lens_provider
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.targets.model import Target

PURPOSE = "compose-service"


class ComposeWatch(TargetWatch):
    """Per compose file: its services' running containers as (target id, service) pairs in the answer's
    (id, name) slots, so the lens can pick a service's own."""

    def _pair(self, target: Target) -> tuple[str, str]:
        return target.id, target.labels.get("com.docker.compose.service", "")


def lenses(
    ls: DebugboxLanguageServer, watch: ComposeWatch, uri: str, anchor: LensAnchor
) -> Sequence[lsp.CodeLens]:
    out: list[lsp.CodeLens] = []
    dockerfile = anchor.data.get("dockerfile")
    if isinstance(dockerfile, str) and is_dockerfile_name(Path(dockerfile).name):
        target_uri = from_fs_path(dockerfile) or dockerfile
        command = lsp.Command(
            title="Generate Dockerfile.debug",
            command=Command.GENERATE_DEBUG_DOCKERFILE.value,
            arguments=[{"uri": target_uri}],
        )
        out.append(lsp.CodeLens(range=anchor.range, command=command))
    path = ls.path_of(uri)
    if path is None:
        return out
    watch.ensure_running()
    watch.want(path, ls.workspace_root_of(path), uri)
    related = [
        target for target, service in watch.answers.get(path, ()) if service == anchor.data.get("service")
    ]
    if related:
        lens = debug_lens(ls, uri, anchor.range, related)
        if anchor.data.get("included") and lens.command is not None:
            # Several included services share their `include:` entry: each lens names its own.
            lens.command.title = f"Debug {anchor.data.get('service')} ({len(related)})"
        out.insert(0, lens)
    return out


def register(server: DebugboxLanguageServer) -> None:
    def analyze(uri: str, text: str, settings: Settings, previous: Analysis | None = None) -> Analysis:
        # Imported on first use, in the analysis thread: `debugbox lsp` starts without the analysers.
        from debugbox.core.compose import analysis
        from debugbox.edge.compose import installed_engines
        from debugbox.edge.workspace import ComposeInputs, compose_inputs

        path = server.path_of(uri)
        read = compose_inputs(text, path, server.workspace_root_of(path)) if path else ComposeInputs()
        installed = installed_engines(server.workspace_roots()) if settings.compose.engine == "auto" else ()
        return analysis.analyze(
            uri, text, settings, previous, read.dockerfiles, installed, read.related, read.folder_name
        )

    server.analyses.provide(DocumentKind.COMPOSE, analyze)
    register_lens_provider(server, PURPOSE, ComposeWatch, lenses)
