"""Dockerfile text → instructions with exact positions (line and character of every piece).

Hand-written, following BuildKit's parser (`frontend/dockerfile/parser`): parser directives at the top
(`# escape=`), line continuations with the escape character, comment and blank lines inside
continuations dropped, heredocs (`<<EOF`, `<<-EOF`, quoted terminators) for RUN/COPY/ADD, flags
(`--from=…`), JSON (exec) form, lowercase and indented instructions. The PyPI `dockerfile` package
(BuildKit's Go parser) gives line numbers but no columns and is not pure Python, so it is only used by a
test that compares the two on the corpus (see docs/dockerfile-analysis.md).

Positions are LSP positions: 0-based lines, characters in UTF-16 code units. Never raises: junk gives
instructions with unknown keywords or none, and `problems` says what was odd (unterminated heredoc).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lsprotocol import types as lsp

INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_JSON_INSTRUCTIONS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"})
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"(?<![<\w])<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?")


@dataclass(frozen=True)
class Heredoc:
    name: str
    strip_tabs: bool
    content: str
    start_line: int
    """First content line (0-based)."""
    end_line: int
    """The terminator line, or the last line of the file when unterminated."""
    terminated: bool


@dataclass(frozen=True)
class Flag:
    name: str
    value: str | None
    start: int
    """Offset of `--` in the instruction's logical text."""
    end: int


class PositionMap:
    """Maps offsets in an instruction's logical (joined) text back to document positions."""

    __slots__ = ("_cols", "_lines", "_offsets", "_source")

    def __init__(self, source: list[str]) -> None:
        self._source = source
        self._offsets: list[int] = []
        self._lines: list[int] = []
        self._cols: list[int] = []

    def add(self, offset: int, line: int, col: int) -> None:
        self._offsets.append(offset)
        self._lines.append(line)
        self._cols.append(col)

    def position(self, offset: int) -> lsp.Position:
        from lsprotocol import types as lsp  # lazily: importing lsprotocol costs ~0.4 s (CLI start-up)

        i = max(bisect.bisect_right(self._offsets, offset) - 1, 0)
        line = self._lines[i]
        col = self._cols[i] + (offset - self._offsets[i])
        text = self._source[line]
        col = min(col, len(text))
        if not text.isascii():
            col = len(text[:col].encode("utf-16-le", "surrogatepass")) // 2
        return lsp.Position(line=line, character=col)


@dataclass(frozen=True, eq=False)
class Instruction:
    keyword: str
    """Upper-case keyword as BuildKit sees it (`from` → `FROM`)."""
    text: str
    """The logical instruction: continuations joined, comment lines dropped, heredoc bodies excluded."""
    line: int
    end_line: int
    """Last physical line, heredoc bodies included."""
    end_character: int
    keyword_end: int
    """Offset in `text` just after the keyword."""
    args_start: int
    """Offset in `text` where the arguments begin (after flags)."""
    flags: tuple[Flag, ...]
    heredocs: tuple[Heredoc, ...]
    positions: PositionMap = field(repr=False)

    @property
    def args(self) -> str:
        return self.text[self.args_start :]

    @property
    def json_args(self) -> list[str] | None:
        """The exec-form argument list, or None for shell form (for keywords that have both)."""
        if self.keyword not in _JSON_INSTRUCTIONS:
            return None
        return parse_json_list(self.args)

    @property
    def exec_form(self) -> bool:
        """Whether the command is JSON as BuildKit reports it (for HEALTHCHECK CMD and ONBUILD too)."""
        if self.keyword in _JSON_INSTRUCTIONS:
            return self.json_args is not None
        if self.keyword == "HEALTHCHECK":
            m = re.match(r"CMD\s+", self.args, re.IGNORECASE)
            return m is not None and parse_json_list(self.args[m.end() :]) is not None
        if self.keyword == "ONBUILD":
            m = re.match(r"(\S+)\s+", self.args)
            return (
                m is not None
                and m.group(1).upper() in _JSON_INSTRUCTIONS
                and (parse_json_list(self.args[m.end() :]) is not None)
            )
        return False

    def flag(self, name: str) -> str | None:
        for f in self.flags:
            if f.name.lower() == name:
                return f.value
        return None

    def range_of(self, start: int, end: int) -> lsp.Range:
        from lsprotocol import types as lsp

        return lsp.Range(start=self.positions.position(start), end=self.positions.position(end))

    @property
    def range(self) -> lsp.Range:
        from lsprotocol import types as lsp

        return lsp.Range(
            start=self.positions.position(0),
            end=lsp.Position(line=self.end_line, character=self.end_character),
        )

    @property
    def keyword_range(self) -> lsp.Range:
        return self.range_of(0, self.keyword_end)


def parse_json_list(args: str) -> list[str] | None:
    stripped = args.strip()
    if not stripped.startswith("[") or not stripped.endswith("]"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


@dataclass(frozen=True)
class ParsedDockerfile:
    instructions: tuple[Instruction, ...]
    escape: str
    directives: dict[str, str]
    problems: tuple[tuple[int, str], ...]
    """(line, message) for things BuildKit would reject while parsing (unterminated heredoc)."""
    lines: list[str] = field(repr=False)


def _strip_continuation(line: str, escape: str) -> tuple[str, bool]:
    """The line without a trailing escape character (and whitespace after it), and whether it had one."""
    stripped = line.rstrip(" \t")
    # As BuildKit: an escape preceded by another escape (`\\`) is a literal, not a continuation.
    if stripped.endswith(escape) and (len(stripped) == 1 or stripped[-2] != escape):
        return stripped[:-1], True
    return line, False


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def parse(text: str) -> ParsedDockerfile:
    """Parse a whole Dockerfile. Linear in the size of the text; never raises."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        if raw.endswith("\r"):
            lines[i] = raw[:-1]
    directives: dict[str, str] = {}
    n = len(lines)
    i = 0
    # Parser directives: only in the leading run of `# key=value` comment lines.
    while i < n:
        m = _DIRECTIVE.match(lines[i])
        if not m:
            break
        key = m.group(1).lower()
        if key in directives:
            break
        directives[key] = m.group(2)
        i += 1
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        escape = "\\"
    instructions: list[Instruction] = []
    problems: list[tuple[int, str]] = []
    i = 0
    while i < n:
        line = lines[i]
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start_line = i
        positions = PositionMap(lines)
        parts: list[str] = []
        offset = 0
        col = len(line) - len(stripped)
        last_line, last_end = i, len(line)
        while True:
            content, continued = _strip_continuation(lines[i][col:] if i == start_line else lines[i], escape)
            piece_col = col if i == start_line else 0
            positions.add(offset, i, piece_col)
            parts.append(content)
            offset += len(content)
            last_line, last_end = i, len(lines[i])
            i += 1
            if not continued:
                break
            # Blank and comment lines inside a continuation are dropped (BuildKit does the same).
            while i < n and (not lines[i].strip(" \t") or _is_comment(lines[i])):
                i += 1
            if i >= n:
                break
        logical = "".join(parts)
        kw_match = re.match(r"\S+", logical)
        keyword_end = kw_match.end() if kw_match else 0
        keyword = logical[:keyword_end].upper()
        flags: list[Flag] = []
        pos = keyword_end
        # BuildKit reads leading `--flags` on every instruction (ONBUILD's belong to the nested one).
        if keyword != "ONBUILD":
            while True:
                ws = len(logical) - len(logical[pos:].lstrip(" \t"))
                if logical.startswith("--", ws) and (ws + 2 == len(logical) or logical[ws + 2].isspace()):
                    pos = ws + 2  # a lone `--` ends the flags, as in BuildKit
                    break
                fm = _FLAG.match(logical, ws)
                if not fm or (fm.end() < len(logical) and not logical[fm.end()].isspace()):
                    break
                flags.append(Flag(fm.group(1), fm.group(2), fm.start(), fm.end()))
                pos = fm.end()
        args_start = len(logical) - len(logical[pos:].lstrip(" \t"))
        heredocs: list[Heredoc] = []
        if (
            keyword in _HEREDOC_INSTRUCTIONS
            and "<<" in logical
            and parse_json_list(logical[args_start:]) is None
        ):
            for hm in _HEREDOC.finditer(logical, args_start):
                strip_tabs, name = hm.group(1) == "-", hm.group(3)
                body: list[str] = []
                first = i
                terminated = False
                while i < n:
                    candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                    if candidate == name:
                        terminated = True
                        break
                    body.append(candidate)
                    i += 1
                if terminated:
                    last_line, last_end = i, len(lines[i])
                    i += 1
                else:
                    problems.append((start_line, f"heredoc <<{name} is never terminated"))
                    last_line = n - 1
                    last_end = len(lines[-1])
                content = "\n".join(body) + ("\n" if body else "")
                heredocs.append(Heredoc(name, strip_tabs, content, first, last_line, terminated))
        end_char = last_end
        src = lines[last_line]
        if not src.isascii():
            end_char = len(src[:last_end].encode("utf-16-le", "surrogatepass")) // 2
        instructions.append(
            Instruction(
                keyword=keyword,
                text=logical,
                line=start_line,
                end_line=last_line,
                end_character=end_char,
                keyword_end=keyword_end,
                args_start=args_start,
                flags=tuple(flags),
                heredocs=tuple(heredocs),
                positions=positions,
            )
        )
    return ParsedDockerfile(tuple(instructions), escape, directives, tuple(problems), lines)
