"""Build stages of a parsed Dockerfile: what each stage is built from, what that image is, who it runs as.

Follows BuildKit's rules: global ARGs (before the first FROM) with their defaults are visible in FROM lines;
BuildKit's automatic platform ARGs (TARGETOS, BUILDPLATFORM, …) resolve to linux/amd64; `FROM name` refers
to an earlier stage by name (case-insensitive); ENV and USER are inherited from a base stage, ARGs are not.
Each stage's external image is classified with `debugbox.images`; when the table does not know it, the
stage's own RUN lines (and its ancestors') are the evidence: `apk add` means apk and a shell.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from debugbox.core.dockerfile.parse import Instruction, ParsedDockerfile, parse
from debugbox.core.images import ImageInfo, classify_image

if TYPE_CHECKING:
    from lsprotocol import types as lsp

#: BuildKit's automatic platform ARGs, as on an amd64 Linux builder.
PLATFORM_ARGS: dict[str, str | None] = {
    "TARGETPLATFORM": "linux/amd64",
    "TARGETOS": "linux",
    "TARGETARCH": "amd64",
    "TARGETVARIANT": "",
    "BUILDPLATFORM": "linux/amd64",
    "BUILDOS": "linux",
    "BUILDARCH": "amd64",
    "BUILDVARIANT": "",
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACE = re.compile(r"[{}]")
_MAX_FROM = 4096
_WORD = re.compile(r"""(?:[^\s"']|"(?:\\.|[^"\\])*"|'[^']*')+""")


class _Unresolved(Exception):
    pass


def _expand(text: str, env: Mapping[str, str | None], escape: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == escape and i + 1 < n and text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if c != "$" or i + 1 >= n:
            # Copy up to the next `$` or escape in one step (long values must not cost a loop turn per char).
            nxt = min((k for k in (text.find("$", i + 1), text.find(escape, i + 1)) if k >= 0), default=n)
            out.append(text[i:nxt])
            i = nxt
            continue
        if text[i + 1] == "{":
            depth, j = 1, i + 2
            for brace in _BRACE.finditer(text, i + 2):
                depth += 1 if brace.group() == "{" else -1
                if not depth:
                    j = brace.end()
                    break
            if depth:
                raise _Unresolved(text[i:])
            body = text[i + 2 : j - 1]
            m = _NAME.match(body)
            if not m:
                raise _Unresolved(body)
            name, rest = m.group(0), body[m.end() :]
            value = env.get(name)
            if not rest:
                if value is None:
                    raise _Unresolved(name)
                out.append(value)
            else:
                colon = rest.startswith(":")
                op = rest[1:2] if colon else rest[:1]
                word = rest[2:] if colon else rest[1:]
                unset = value is None or (colon and value == "")
                if op in ("-", "="):
                    out.append(_expand(word, env, escape) if unset else str(value))
                elif op == "+":
                    out.append("" if unset else _expand(word, env, escape))
                elif op == "?":
                    if unset:
                        raise _Unresolved(name)
                    out.append(str(value))
                else:
                    raise _Unresolved(body)
            i = j
            continue
        m = _NAME.match(text, i + 1)
        if not m:
            out.append(c)
            i += 1
            continue
        value = env.get(m.group(0))
        if value is None:
            raise _Unresolved(m.group(0))
        out.append(value)
        i = m.end()
    return "".join(out)


def expand(text: str, env: Mapping[str, str | None], escape: str = "\\") -> str | None:
    """Substitute `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+w}`, `${X+w}`; None if a value is unknown."""
    if "$" not in text:
        return text
    try:
        return _expand(text, env, escape)
    except _Unresolved:
        return None


def _assignments(args: str, legacy: bool) -> list[tuple[str, str | None]]:
    """`K=V K2="v 2"` (or `K V` when `legacy`) → pairs; a bare `K` (ARG without default) → (K, None)."""
    words = _WORD.findall(args)
    if legacy and words and "=" not in words[0]:
        return [(words[0], args.strip()[len(words[0]) :].strip())]
    pairs: list[tuple[str, str | None]] = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq:
            pairs.append((key, None))
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((key, value))
    return pairs


@dataclass
class Stage:
    index: int
    name: str | None
    from_instruction: Instruction
    from_text: str
    """The image reference as written."""
    from_span: tuple[int, int]
    """Offsets of the image token in the FROM instruction's text (see `from_range`)."""
    platform: str | None
    resolved_from: str | None
    """`from_text` with ARGs substituted (None when a value is unknown)."""
    base_stage: int | None
    image: str | None
    """The external image after following stage references; None when unresolvable."""
    info: ImageInfo
    """What is known about `image`, refined with evidence from the file (see `evidence`)."""
    evidence: str | None
    instructions: list[Instruction] = field(default_factory=list)
    user: str | None = None
    """Effective USER (inherited from the base stage); None when never set in this file."""
    user_instruction: Instruction | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    shell_override: list[str] | None = None
    """The SHELL in effect at the end of the stage (inherited), if any."""
    copies_from: list[tuple[Instruction, str, int | None]] = field(default_factory=list)
    """`COPY --from=X`: (instruction, X as written, the stage index X names or None for an image/context)."""

    @property
    def from_range(self) -> lsp.Range:
        """Range of the image token on the FROM line."""
        return self.from_instruction.range_of(*self.from_span)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else str(self.index)


@dataclass
class DockerfileModel:
    parsed: ParsedDockerfile
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_at_line(self, line: int) -> Stage | None:
        found = None
        for stage in self.stages:
            if stage.from_instruction.line <= line:
                found = stage
            else:
                break
        return found


_PM_EVIDENCE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("apk", re.compile(r"(?<![\w-])apk\s+(?:--?[\w-]+\s+)*(?:add|update|upgrade|del|info|fix)\b")),
    ("apt", re.compile(r"(?<![\w-])apt(?:-get)?\s+(?:-\S+\s+)*(?:install|update|upgrade)\b")),
    ("microdnf", re.compile(r"(?<![\w-])microdnf\b")),
    ("tdnf", re.compile(r"(?<![\w-])tdnf\b")),
    ("dnf", re.compile(r"(?<![\w-])dnf\b")),
    ("yum", re.compile(r"(?<![\w-])yum\b")),
    ("zypper", re.compile(r"(?<![\w-])zypper\b")),
)


def _run_script(ins: Instruction) -> str:
    parts = [ins.args]
    parts.extend(h.content for h in ins.heredocs)
    return "\n".join(parts)


def _stage_evidence(stage: Stage) -> tuple[str | None, bool]:
    """(package manager named by the first RUN that uses one, whether any shell-form RUN ran)."""
    pm: str | None = None
    best = -1
    shell_run = False
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        if ins.json_args is None:
            shell_run = True
        if pm is not None:
            continue
        script = _run_script(ins)
        for name, pattern in _PM_EVIDENCE:
            m = pattern.search(script)
            if m and (best < 0 or m.start() < best):
                pm, best = name, m.start()
    return pm, shell_run


_PM_FAMILY = {
    "apk": "alpine",
    "apt": "debian",
    "dnf": "rhel",
    "microdnf": "rhel",
    "yum": "rhel",
    "tdnf": "azurelinux",
    "zypper": "opensuse",
}


def build_model(parsed: ParsedDockerfile) -> DockerfileModel:
    escape = parsed.escape
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    by_name: dict[str, int] = {}
    current: Stage | None = None
    for ins in parsed.instructions:
        kw = ins.keyword
        if kw == "FROM":
            current = _new_stage(ins, len(stages), global_args, stages, by_name, escape)
            stages.append(current)
            if current.name is not None and current.name not in by_name:
                by_name[current.name] = current.index
            continue
        if current is None:
            if kw == "ARG":
                global_scope = {**PLATFORM_ARGS, **global_args}
                for key, value in _assignments(ins.args, legacy=False):
                    global_args[key] = expand(value, global_scope, escape) if value is not None else None
                    global_scope[key] = global_args[key]
            continue
        current.instructions.append(ins)
        if kw not in ("ARG", "ENV", "USER", "SHELL", "COPY", "ADD"):
            continue
        # A view, not a copy: copying the environment per instruction is quadratic in ENV-heavy files.
        scope: Mapping[str, str | None] = ChainMap(current.args, current.env, PLATFORM_ARGS)
        if kw == "ARG":
            for key, value in _assignments(ins.args, legacy=False):
                if value is None:
                    current.args[key] = current.args.get(key, global_args.get(key, PLATFORM_ARGS.get(key)))
                else:
                    current.args[key] = expand(value, scope, escape)
        elif kw == "ENV":
            for key, value in _assignments(ins.args, legacy=True):
                current.env[key] = expand(value, scope, escape) if value is not None else None
        elif kw == "USER":
            raw = ins.args.strip()
            current.user = expand(raw, scope, escape) or raw
            current.user_instruction = ins
        elif kw == "SHELL":
            current.shell_override = ins.json_args
        elif kw in ("COPY", "ADD") and ins.flag("from"):
            raw = ins.flag("from") or ""
            ref = expand(raw, scope, escape) or raw
            if ref.isdigit():
                index = int(ref) if int(ref) < current.index else None
            else:
                index = by_name.get(ref.lower())
            current.copies_from.append((ins, raw, index))
    for stage in stages:
        _apply_evidence(stage, stages)
    return DockerfileModel(parsed, global_args, stages)


def _new_stage(
    ins: Instruction,
    index: int,
    global_args: dict[str, str | None],
    stages: list[Stage],
    by_name: dict[str, int],
    escape: str,
) -> Stage:
    words = list(re.finditer(r"\S+", ins.text[ins.args_start :]))
    from_text, from_span = "", (ins.args_start, ins.args_start)
    name = None
    if words:
        w = words[0]
        from_text = w.group(0)
        from_span = (ins.args_start + w.start(), ins.args_start + w.end())
        if len(words) >= 3 and words[1].group(0).lower() == "as":
            name = words[2].group(0).lower()
    scope = {**PLATFORM_ARGS, **global_args}
    # A megabyte-long "image" is junk: don't spend seconds expanding what cannot be a reference.
    resolved = expand(from_text, scope, escape) if 0 < len(from_text) <= _MAX_FROM else None
    platform = ins.flag("platform")
    base_stage = by_name.get(resolved.lower()) if resolved else None
    stage = Stage(
        index=index,
        name=name,
        from_instruction=ins,
        from_text=from_text,
        from_span=from_span,
        platform=expand(platform, scope, escape) if platform else None,
        resolved_from=resolved,
        base_stage=base_stage,
        image=None,
        info=classify_image(""),
        evidence=None,
    )
    if base_stage is not None:
        base = stages[base_stage]
        stage.image = base.image
        stage.user = base.user
        stage.user_instruction = base.user_instruction
        stage.env = dict(base.env)
        stage.shell_override = base.shell_override
    elif resolved:
        stage.image = resolved
    return stage


def _apply_evidence(stage: Stage, stages: list[Stage]) -> None:
    if stage.base_stage is not None:
        base = stages[stage.base_stage]
        info, evidence = base.info, base.evidence
    elif stage.image is not None:
        info, evidence = classify_image(stage.image), None
    else:
        info = replace(
            classify_image(""), why=f"{stage.from_text!r} cannot be resolved (an ARG without a value)"
        )
        evidence = None
    pm, shell_run = _stage_evidence(stage)
    changes: dict[str, object] = {}
    notes: list[str] = []
    if info.package_manager == "unknown" and pm is not None:
        changes["package_manager"] = pm
        if info.family == "unknown":
            changes["family"] = _PM_FAMILY[pm]
        notes.append(f"RUN uses {pm} in stage {stage.label}")
    if info.has_shell is None and shell_run and stage.shell_override is None:
        changes["has_shell"] = True
        changes["shell"] = "/bin/sh"
        notes.append(f"shell-form RUN in stage {stage.label} needs /bin/sh")
    if changes:
        note = "; ".join(notes)
        evidence = f"{evidence}; {note}" if evidence else note
        info = replace(info, **changes)  # type: ignore[arg-type]
        info = replace(info, why=f"{info.why}; from the file: {note}")
    stage.info, stage.evidence = info, evidence


def analyze_text(text: str) -> DockerfileModel:
    return build_model(parse(text))


def inspect_dockerfile(model: DockerfileModel) -> dict[str, object]:
    """The `debugbox inspect --json` document for a Dockerfile (schema in docs/cli.md)."""
    final = model.final
    return {
        "kind": "dockerfile",
        "final_stage": final.index if final else None,
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "line": s.from_instruction.line + 1,
                "from": s.from_text,
                "image": s.image,
                "base_stage": s.base_stage,
                "family": s.info.family,
                "package_manager": s.info.package_manager,
                "has_shell": s.info.has_shell,
                "shell": s.info.shell,
                "user": s.user,
            }
            for s in model.stages
        ],
    }
