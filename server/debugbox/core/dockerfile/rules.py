"""Dockerfile diagnostics (codes DBX1xx, catalogued in docs/diagnostics.md) and their exec-form fixes.

Only what debugbox knows and generic Dockerfile linters do not: whether the images have a shell, and what
that breaks. No style rules (hadolint and the Docker language servers do those).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lsprotocol import types as lsp

from debugbox.core.dockerfile.parse import INSTRUCTIONS, Instruction, parse_json_list
from debugbox.core.dockerfile.stages import DockerfileModel, Stage
from debugbox.core.images import http_clients
from debugbox.core.wire import SOURCE

FINAL_NO_SHELL = "DBX101"
SHELL_FORM_WITHOUT_SH = "DBX102"
HEALTHCHECK_NO_HTTP_CLIENT = "DBX103"
BUILDKIT_REJECTS = "DBX110"
ANALYSIS_LIMIT = "DBX111"

_BIN_SH_SHELLS = frozenset({"/bin/sh", "/bin/bash"})
# A command we can turn into JSON without changing its meaning: words of plain characters only.
_SIMPLE = re.compile(r"[A-Za-z0-9_./:=,@%+-]+(?:[ \t]+[A-Za-z0-9_./:=,@%+-]+)*")


@dataclass(frozen=True)
class Finding:
    diagnostic: lsp.Diagnostic
    fix: lsp.TextEdit | None = None
    """Exec-form rewrite, when the instruction is one simple command."""
    stage: int | None = None


def lacks_bin_sh(stage: Stage) -> bool:
    """True when the stage's image is known to have no /bin/sh (and no SHELL instruction replaces it)."""
    info = stage.info
    if info.family == "windows" or stage.shell_override is not None:
        return False
    if info.has_shell is False:
        return True
    return info.has_shell is True and info.shell is not None and info.shell not in _BIN_SH_SHELLS


def _diag(rng: lsp.Range, severity: lsp.DiagnosticSeverity, code: str, message: str) -> lsp.Diagnostic:
    return lsp.Diagnostic(range=rng, message=message, severity=severity, code=code, source=SOURCE)


def _image_label(stage: Stage) -> str:
    return stage.image or stage.from_text or "this image"


def exec_form_edit(ins: Instruction, start: int) -> lsp.TextEdit | None:
    """Rewrite the shell-form command starting at offset `start` of `ins` as a JSON array, if simple."""
    command = ins.text[start:].strip()
    if ins.heredocs or not _SIMPLE.fullmatch(command):
        return None
    words = command.split()
    end = len(ins.text.rstrip())
    return lsp.TextEdit(range=ins.range_of(start, end), new_text=json.dumps(words))


def _healthcheck_command(ins: Instruction) -> tuple[int, str | None, list[str] | None] | None:
    """(offset of the command, its shell form, its exec form) for `HEALTHCHECK [opts] CMD …`."""
    m = re.match(r"CMD\b\s*", ins.args, re.IGNORECASE)
    if not m:
        return None
    start = ins.args_start + m.end()
    rest = ins.text[start:]
    as_json = parse_json_list(rest)
    return start, None if as_json is not None else rest, as_json


def _utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def _rejections(model: DockerfileModel) -> list[Finding]:
    """DBX110 (what BuildKit refuses to build, with its message) and DBX111 (a value left unknown)."""
    findings: list[Finding] = []
    lines = model.parsed.lines
    for error in model.parsed.errors:
        end = lines[error.end_line] if error.end_line < len(lines) else ""
        rng = lsp.Range(
            start=lsp.Position(line=error.line, character=0),
            end=lsp.Position(line=error.end_line, character=_utf16_len(end)),
        )
        message = f"BuildKit cannot parse this Dockerfile: {error.message}."
        findings.append(Finding(_diag(rng, lsp.DiagnosticSeverity.Error, BUILDKIT_REJECTS, message)))
    for ins in model.parsed.instructions:
        if ins.keyword not in INSTRUCTIONS:
            word = ins.text[: ins.keyword_end]
            message = f"unknown instruction: {word} (BuildKit refuses to build this Dockerfile)."
            findings.append(
                Finding(_diag(ins.keyword_range, lsp.DiagnosticSeverity.Error, BUILDKIT_REJECTS, message))
            )
    for note in model.notes:
        rng = note.instruction.range_of(0, len(note.instruction.text.rstrip()))
        if note.error:
            message = f"BuildKit cannot expand this: {note.message}."
            findings.append(Finding(_diag(rng, lsp.DiagnosticSeverity.Error, BUILDKIT_REJECTS, message)))
        else:
            message = f"{note.message}."
            findings.append(Finding(_diag(rng, lsp.DiagnosticSeverity.Warning, ANALYSIS_LIMIT, message)))
    return findings


def check(model: DockerfileModel) -> list[Finding]:
    findings: list[Finding] = _rejections(model)
    final = model.final
    for stage in model.stages:
        no_sh = lacks_bin_sh(stage)
        for ins in stage.instructions:
            kw = ins.keyword
            if kw in ("RUN", "CMD", "ENTRYPOINT") and no_sh and ins.json_args is None and ins.args.strip():
                findings.append(_shell_form(stage, ins, ins.args_start, kw))
            elif kw == "HEALTHCHECK":
                hc = _healthcheck_command(ins)
                if hc is None:
                    continue
                start, shell_text, exec_args = hc
                if shell_text is not None and no_sh and shell_text.strip():
                    findings.append(_shell_form(stage, ins, start, "HEALTHCHECK CMD"))
                findings.extend(_healthcheck_tools(model, stage, ins, start, shell_text, exec_args))
    if final is not None and final.info.has_shell is False and final.info.family != "windows":
        message = (
            f"The final image ({_image_label(final)}) has no shell: `docker exec … sh` will not work. "
            "Generate a Dockerfile.debug to get a shell and tools."
        )
        findings.append(
            Finding(
                _diag(final.from_range, lsp.DiagnosticSeverity.Information, FINAL_NO_SHELL, message),
                None,
                final.index,
            )
        )
    return findings


def _shell_form(stage: Stage, ins: Instruction, start: int, what: str) -> Finding:
    consequence = {
        "RUN": "the build will fail",
        "CMD": "the container will fail to start",
        "ENTRYPOINT": "the container will fail to start",
    }.get(what, "the health check will always fail")
    where = (
        "has no shell"
        if stage.info.has_shell is False
        else f"has its shell at {stage.info.shell}, not /bin/sh"
    )
    message = f"{what} in shell form runs /bin/sh -c, but {_image_label(stage)} {where}: {consequence}."
    fix = exec_form_edit(ins, start) if what != "RUN" else None
    if what != "RUN":
        message += " Use the exec (JSON) form." if fix is not None else " Rewrite it in exec (JSON) form."
    rng = ins.range_of(0, len(ins.text.rstrip()))
    return Finding(_diag(rng, lsp.DiagnosticSeverity.Error, SHELL_FORM_WITHOUT_SH, message), fix, stage.index)


def _installs(stage: Stage, model: DockerfileModel, tool: str) -> bool:
    """Whether the stage (or a stage it builds on) mentions `tool` in a RUN or COPY: assume it installs it."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(tool)}(?![\w-])")
    current: Stage | None = stage
    while current is not None:
        for ins in current.instructions:
            if ins.keyword in ("RUN", "COPY", "ADD") and (
                pattern.search(ins.text) or any(pattern.search(h.content) for h in ins.heredocs)
            ):
                return True
        current = model.stages[current.base_stage] if current.base_stage is not None else None
    return False


def _healthcheck_tools(
    model: DockerfileModel,
    stage: Stage,
    ins: Instruction,
    start: int,
    shell_text: str | None,
    exec_args: list[str] | None,
) -> list[Finding]:
    available = http_clients(stage.info)
    if available is None:
        return []
    if exec_args is not None:
        words = [a.rsplit("/", 1)[-1] for a in exec_args[:1]]
        if exec_args and exec_args[0].rsplit("/", 1)[-1] in ("sh", "bash") and len(exec_args) >= 3:
            words = re.findall(r"[\w./-]+", exec_args[2])
    else:
        words = re.findall(r"[\w./-]+", shell_text or "")
    used = [w.rsplit("/", 1)[-1] for w in words if w.rsplit("/", 1)[-1] in ("curl", "wget")]
    findings = []
    for tool in dict.fromkeys(used):
        if tool in available or _installs(stage, model, tool):
            continue
        message = f"HEALTHCHECK calls {tool}, but {_image_label(stage)} has "
        message += (
            "neither curl nor wget" if not available else f"no {tool} (it has {', '.join(sorted(available))})"
        )
        message += ": the health check will always fail."
        findings.append(
            Finding(
                _diag(
                    ins.range_of(start, len(ins.text.rstrip())),
                    lsp.DiagnosticSeverity.Warning,
                    HEALTHCHECK_NO_HTTP_CLIENT,
                    message,
                ),
                None,
                stage.index,
            )
        )
    return findings
