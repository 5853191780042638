"""The contract between the pure analysers (`core/dockerfile/`, `core/kubernetes/`) and the protocol layer
(`lsp/handlers/`).

An analyser turns one document version's text into an `Analysis`; the protocol layer caches it per (uri, version)
and asks it for diagnostics, code actions, hover and code-lens anchors. Everything here is plain data built from
lsprotocol types, so the analysers stay free of pygls and of side effects. What only the edge can know (does a
file exist on disk? which containers run?) reaches an analyser through `ActionContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lsprotocol import types as lsp

from debugbox.core.settings import Settings


@dataclass(frozen=True)
class Action:
    """A code action, before the protocol layer turns it into `lsp.CodeAction`."""

    title: str
    kind: str = lsp.CodeActionKind.QuickFix.value
    diagnostics: tuple[lsp.Diagnostic, ...] = ()
    edits: tuple[lsp.TextEdit, ...] = ()
    """Edits to the analysed document itself (sent as a versioned TextDocumentEdit)."""
    command: str | None = None
    """A server command to run when chosen (after `edits`, if both are set)."""
    arguments: tuple[Any, ...] = ()
    preferred: bool = False
    disabled_reason: str | None = None
    """When set the action is shown greyed out with this reason (e.g. Kubernetes would reject the edit)."""
    deferred: bool = False
    """Offered without its `edits`, whose check is costly: asked for with `ActionContext.defer_checks`, they
    come when the action is chosen (the same request again without it; `codeAction/resolve`)."""


@dataclass(frozen=True)
class LensAnchor:
    """A place a code lens may go; the protocol layer decides its title from live state (e.g. running targets)."""

    range: lsp.Range
    purpose: str
    """`dockerfile-final-from` or `k8s-container`."""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionContext:
    settings: Settings
    file_exists: Callable[[str], bool]
    """Whether a sibling file URI exists; used to turn "Generate" into "Regenerate" without touching disk here."""
    only: Sequence[str] | None = None
    """`CodeActionContext.only` from the request."""
    wanted: str | None = None
    """Only the action with this title is needed (one being resolved): an analyser may leave the others out."""
    defer_checks: bool = False
    """The client completes a chosen action's edits (`codeAction/resolve`): an analyser may offer an edit whose
    check cannot fail for a reason the cheap checks miss as a `deferred` action, checked only when chosen."""


class Analysis(Protocol):
    """One analysed document version."""

    def diagnostics(self) -> Sequence[lsp.Diagnostic]: ...

    def actions(self, rng: lsp.Range, context: ActionContext) -> Sequence[Action]: ...

    def hover(self, position: lsp.Position) -> lsp.Hover | None: ...

    def lens_anchors(self) -> Sequence[LensAnchor]: ...


class Analyzer(Protocol):
    """`analyze(uri, text, settings, previous)`: each analyser module exposes one as `analyze`.

    `previous` is the analysis of the same URI's previous version, if any: analysers that can re-use work
    (the manifest analyser re-parses only the YAML documents that changed) use it; others ignore it.
    """

    def __call__(
        self, uri: str, text: str, settings: Settings, previous: Analysis | None = None
    ) -> Analysis: ...
