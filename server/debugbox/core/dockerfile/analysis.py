"""`analyze(uri, text, settings)`: one Dockerfile version → diagnostics, code actions, hover, lens anchors.

Everything is computed once here (parse, stages, findings, actions indexed by line) so that the requests
the language server answers many times per version (code actions on every cursor move, hover) are lookups.
Implements `debugbox.core.analysis.Analysis`; pure (no pygls, no disk: whether Dockerfile.debug exists comes
from `ActionContext.file_exists`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp

from debugbox.core import markdown as md
from debugbox.core.analysis import Action, ActionContext, Analysis, LensAnchor
from debugbox.core.dockerfile.debug_image import debug_file_name
from debugbox.core.dockerfile.rules import FINAL_NO_SHELL, Finding, check
from debugbox.core.dockerfile.stages import DockerfileModel, Stage, analyze_text
from debugbox.core.settings import Settings
from debugbox.core.wire import Command

#: Kind of the "Generate Dockerfile.debug" action offered anywhere: a source action (VS Code lists it under
#: "Source Action…", other editors with all actions); the same action is a quick fix on DBX101.
SOURCE_KIND = lsp.CodeActionKind.Source.value
QUICKFIX_KIND = lsp.CodeActionKind.QuickFix.value


def debug_uri(uri: str) -> str:
    """The URI of the Dockerfile.debug that belongs to `uri` (a sibling file)."""
    head, _, name = uri.rpartition("/")
    if not _:
        return debug_file_name(name)
    return f"{head}/{debug_file_name(name)}"


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    a_start, a_end = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b_start, b_end = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a_start <= b_end and b_start <= a_end


def _matches_only(kind: str, only: Sequence[str] | None) -> bool:
    if not only:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in only)


class DockerfileAnalysis(Analysis):
    def __init__(self, uri: str, text: str, settings: Settings) -> None:
        self.uri = uri
        self.settings = settings
        self.model: DockerfileModel = analyze_text(text)
        self.findings: list[Finding] = check(self.model)
        self._diagnostics = [f.diagnostic for f in self.findings]
        # Finding indexes per line covered: code actions (asked on every cursor move) look at their lines.
        self._findings_by_line: dict[int, list[int]] = {}
        for index, finding in enumerate(self.findings):
            r = finding.diagnostic.range
            for line in range(r.start.line, r.end.line + 1):
                self._findings_by_line.setdefault(line, []).append(index)
        self.debug_uri = debug_uri(uri)
        self.debug_name = posixpath.basename(self.debug_uri) or "Dockerfile.debug"
        self._from_by_line: dict[int, Stage] = {}
        for stage in self.model.stages:
            ins = stage.from_instruction
            for line in range(ins.line, ins.end_line + 1):
                self._from_by_line[line] = stage
        final = self.model.final
        # Only distroless publishes a `:debug` variant whose busybox sits where Dockerfile.debug expects it.
        self._variant = (
            final.info.debug_variant if final is not None and final.info.family == "distroless" else None
        )
        self._windows = final is not None and final.info.family == "windows"

    # --- Analysis protocol ------------------------------------------------------------------------------

    def diagnostics(self) -> Sequence[lsp.Diagnostic]:
        return self._diagnostics

    def actions(self, rng: lsp.Range, context: ActionContext) -> Sequence[Action]:
        actions: list[Action] = []
        exists = context.file_exists(self.debug_uri)
        only = context.only
        for finding in self._findings_in(rng):
            diag = finding.diagnostic
            if not _overlaps(diag.range, rng):
                continue
            if finding.fix is not None and _matches_only(QUICKFIX_KIND, only):
                actions.append(
                    Action(
                        title="Rewrite in exec (JSON) form",
                        kind=QUICKFIX_KIND,
                        diagnostics=(diag,),
                        edits=(finding.fix,),
                        preferred=True,
                    )
                )
            if diag.code == FINAL_NO_SHELL and _matches_only(QUICKFIX_KIND, only):
                actions.extend(self._generate_actions(QUICKFIX_KIND, exists, (diag,)))
        if self.model.stages and not self._windows and _matches_only(SOURCE_KIND, only):
            actions.extend(self._generate_actions(SOURCE_KIND, exists, ()))
        return actions

    def hover(self, position: lsp.Position) -> lsp.Hover | None:
        stage = self._from_by_line.get(position.line)
        if stage is None:
            return None
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=hover_markdown(stage, self.model)),
            range=stage.from_instruction.range,
        )

    def lens_anchors(self) -> Sequence[LensAnchor]:
        final = self.model.final
        if final is None:
            return ()
        data: dict[str, Any] = {"image": final.image, "stage": final.label, "uri": self.uri}
        return (LensAnchor(range=final.from_range, purpose="dockerfile-final-from", data=data),)

    # --- helpers -----------------------------------------------------------------------------------------

    def _findings_in(self, rng: lsp.Range) -> list[Finding]:
        if rng.end.line - rng.start.line > len(self._findings_by_line):
            return self.findings  # a huge range (select all): every finding, in order, once
        indexes: set[int] = set()
        for line in range(rng.start.line, rng.end.line + 1):
            indexes.update(self._findings_by_line.get(line, ()))
        return [self.findings[i] for i in sorted(indexes)]

    def _generate_actions(
        self, kind: str, exists: bool, diagnostics: tuple[lsp.Diagnostic, ...]
    ) -> list[Action]:
        name = self.debug_name
        args: dict[str, Any] = {"uri": self.uri}
        title = f"Generate {name}"
        if exists:
            args["regenerate"] = True
            title = f"Regenerate {name} (replaces its content)"
        out = [
            Action(
                title=title,
                kind=kind,
                diagnostics=diagnostics,
                command=Command.GENERATE_DEBUG_DOCKERFILE.value,
                arguments=(args,),
                preferred=bool(diagnostics),
            )
        ]
        if self._variant is not None:
            variant_args = {**args, "variant": "debug"}
            out.append(
                Action(
                    title=f"Use the :debug variant in {name}" + (" (replaces its content)" if exists else ""),
                    kind=kind,
                    diagnostics=diagnostics,
                    command=Command.GENERATE_DEBUG_DOCKERFILE.value,
                    arguments=(variant_args,),
                )
            )
        return out


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def hover_markdown(stage: Stage, model: DockerfileModel) -> str:
    info = stage.info
    final = model.final
    title = f"**Stage {md.text(stage.label)}**" + (" (final)" if final is stage else "")
    lines = [title, ""]
    if stage.base_stage is not None:
        lines.append(f"- builds on stage {md.code(model.stages[stage.base_stage].label)}")
    lines.append(
        f"- image: {md.code(stage.image)}"
        if stage.image
        else f"- image: {md.code(stage.from_text)} (unresolved)"
    )
    lines.append(f"- family: {md.text(info.family)}")
    lines.append(f"- package manager: {md.text(info.package_manager)}")
    shell = _yes_no(info.has_shell) + (f" ({md.code(info.shell)})" if info.shell else "")
    lines.append(f"- shell: {shell}")
    if stage.user:
        lines.append(f"- user: {md.code(stage.user)}")
    elif info.default_user:
        lines.append(f"- user: {md.code(info.default_user)} (image default)")
    elif info.known:
        lines.append("- user: root (not set)")
    else:
        lines.append("- user: not set in this file (the image's default is not known)")
    if info.debug_variant:
        lines.append(f"- variant with a shell: {md.code(info.debug_variant)}")
    lines += ["", f"Why: {md.text(info.why)}"]
    return "\n".join(lines)


def analyze(uri: str, text: str, settings: Settings, previous: Analysis | None = None) -> DockerfileAnalysis:
    """Analyse one Dockerfile version (`previous` is not needed: a full parse is linear and fast)."""
    del previous
    return DockerfileAnalysis(uri, text, settings)


__all__ = ["DockerfileAnalysis", "analyze", "debug_uri", "hover_markdown"]
