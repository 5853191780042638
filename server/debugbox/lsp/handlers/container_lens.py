"""Code lens "Debug running container (N)" on the final `FROM` of a Dockerfile whose containers are running.

The lens request never waits for an engine. `TargetWatch` (a `lens_watch.LensWatch`) keeps a container listing
refreshed in the background (every `lens_watch.REFRESH_SECONDS`, starting with the first Dockerfile lens
request) together with, for each Dockerfile it was asked about, the containers related to it; the provider
only reads that. When the answer for a Dockerfile changes, the watch asks the editor to re-request lenses
(`workspace/codeLens/refresh`). A Dockerfile seen for the first time gets no lens until the next refresh, which
is triggered right away.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from debugbox.core.analysis import LensAnchor
from debugbox.core.wire import Command
from debugbox.lsp.handlers.lens_watch import LensWatch, register_lens_provider
from debugbox.lsp.handlers.target_commands import bind_program_search
from debugbox.lsp.server import DebugboxLanguageServer

if TYPE_CHECKING:
    from debugbox.core.targets.model import Target

PURPOSE = "dockerfile-final-from"
#: The VS Code extension's own command: a quick pick over the related containers (see vscode-extension).
CLIENT_PICK_COMMAND = "debugbox.client.openDebugTerminal"


class TargetWatch(LensWatch[Path, Path | None, tuple[tuple[str, str], ...]]):
    """Related running containers per Dockerfile, refreshed off the event loop.

    `wanted` maps each Dockerfile to its workspace folder (or None); `answers` maps it to the (target id, name)
    of its related running containers.
    """

    WHAT = "running containers"

    def _timeout(self) -> float:
        from debugbox.edge.service import deadline

        return deadline(self.ls.settings) + 1.0

    def _compute(self) -> dict[Path, tuple[tuple[str, str], ...]]:
        from debugbox.edge import service

        bind_program_search(self.ls)
        settings = self.ls.settings
        listing = service.list_targets(settings, probe=False, runtimes=service.CONTAINER_RUNTIMES)
        running = [t for t in listing.targets if t.status == "running"]
        out: dict[Path, tuple[tuple[str, str], ...]] = {}
        for path, root in list(self.wanted.items()):
            marked = service.relate_to_document(settings, running, path, root)
            out[path] = tuple(self._pair(t) for t in marked if t.related)
        return out

    def _pair(self, target: Target) -> tuple[str, str]:
        """What the lens keeps of a related target: its id and the name it shows."""
        return target.id, target.name


def lenses(
    ls: DebugboxLanguageServer, watch: TargetWatch, uri: str, anchor: LensAnchor
) -> Sequence[lsp.CodeLens]:
    path = ls.path_of(uri)
    if path is None:
        return []
    watch.ensure_running()
    root = ls.workspace_root_of(path)
    watch.want(path, root, uri)
    related = watch.answers.get(path, ())
    if not related:
        return []
    return [debug_lens(ls, uri, anchor.range, [t[0] for t in related])]


def debug_lens(ls: DebugboxLanguageServer, uri: str, rng: lsp.Range, related: Sequence[str]) -> lsp.CodeLens:
    """ "Debug running container (N)" over the related container ids `related` (best first) of the document
    `uri`: the editor's picker when there are several and the editor has one, else the first one's terminal.
    Also the compose services' lens (`compose_lens`)."""
    title = f"Debug running container ({len(related)})"
    if len(related) > 1 and ls.client.open_terminal:
        command = lsp.Command(title=title, command=CLIENT_PICK_COMMAND, arguments=[{"uri": uri}])
    else:
        # One container (or an editor without debugbox's extension): open the first, best-related one.
        args = {"target": related[0], "uri": uri}
        command = lsp.Command(title=title, command=Command.OPEN_DEBUG_TERMINAL.value, arguments=[args])
    return lsp.CodeLens(range=rng, command=command, data={"targets": list(related)})


def register(server: DebugboxLanguageServer) -> None:
    register_lens_provider(server, PURPOSE, TargetWatch, lenses)
