"""`debugbox lsp` with a probe analyser for Dockerfiles, to observe the protocol layer's scheduling from
outside.

The probe numbers its calls and says so in what it returns: one diagnostic "analysis #N (previous #M): <first
line>" and one code action titled "analysis #N: <first line>". The first line of the text steers it:
`SLEEP <ms>` makes the analysis take that long, `RAISE` makes it fail. Two lens providers are registered: one
titles its lens after the analysis number, the other always fails. Everything else is the real server
(create_server, real stdio).
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
from collections.abc import Sequence

from debugbox.core.analysis import Action, ActionContext, Analysis, LensAnchor
from debugbox.core.documents import DocumentKind
from debugbox.core.settings import Settings
from debugbox.lsp.server import DebugboxLanguageServer, create_server, setup_logging
from lsprotocol import types as lsp

_counter = itertools.count(1)
_lock = threading.Lock()
_ORIGIN = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=1))


class ProbeAnalysis:
    def __init__(self, number: int, first_line: str, previous: int | None) -> None:
        self.number = number
        self.first_line = first_line
        self.previous = previous

    def diagnostics(self) -> Sequence[lsp.Diagnostic]:
        message = f"analysis #{self.number} (previous #{self.previous}): {self.first_line}"
        return [lsp.Diagnostic(range=_ORIGIN, message=message, source="probe")]

    def actions(self, rng: lsp.Range, context: ActionContext) -> Sequence[Action]:
        return [Action(title=f"analysis #{self.number}: {self.first_line}")]

    def hover(self, position: lsp.Position) -> lsp.Hover | None:
        return None

    def lens_anchors(self) -> Sequence[LensAnchor]:
        return (
            LensAnchor(range=_ORIGIN, purpose="probe", data={"number": self.number}),
            LensAnchor(range=_ORIGIN, purpose="probe-broken"),
            LensAnchor(range=_ORIGIN, purpose="nobody-provides-this"),
        )


def probe_lens(server: DebugboxLanguageServer, uri: str, anchor: LensAnchor) -> list[lsp.CodeLens]:
    title = f"lens for analysis #{anchor.data['number']}"
    return [lsp.CodeLens(range=anchor.range, command=lsp.Command(title=title, command=""))]


def broken_lens(server: DebugboxLanguageServer, uri: str, anchor: LensAnchor) -> list[lsp.CodeLens]:
    raise RuntimeError("the broken lens provider failed")


def probe_analyze(uri: str, text: str, settings: Settings, previous: Analysis | None = None) -> ProbeAnalysis:
    with _lock:
        number = next(_counter)
    first_line = text.split("\n", 1)[0]
    if "RAISE" in first_line:
        raise RuntimeError("the probe analyser was told to fail")
    if match := re.search(r"SLEEP (\d+)", first_line):
        time.sleep(int(match.group(1)) / 1000)
    return ProbeAnalysis(number, first_line, previous.number if isinstance(previous, ProbeAnalysis) else None)


if __name__ == "__main__":
    setup_logging(None)
    server = create_server(analyzers={DocumentKind.DOCKERFILE: probe_analyze})
    server.lens_providers["probe"] = probe_lens
    server.lens_providers["probe-broken"] = broken_lens
    server.start_io()
    sys.exit(0)
