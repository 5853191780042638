"""Dockerfile text → instructions with exact positions (line and character of every piece), as BuildKit reads them.

A port of BuildKit's parser (moby/buildkit `frontend/dockerfile/parser`; each function names the Go function it
follows): parser directives (`directives.go`), line continuations with the escape character, comment and
blank lines inside continuations dropped, flags (`split_command.go`), each instruction's arguments as its
line parser gives them (`line_parsers.go`: JSON form, ENV/LABEL pairs, ARG words, ONBUILD's instruction), and
heredocs found by lexing the line with the shell lexer (`shell.py`, as `heredocsFromLine`). BuildKit's own
test data checks it (tests/conformance); the PyPI `dockerfile` package (BuildKit v0.12.5, lines only, not
pure Python) is only a test reference on the corpus (see docs/dockerfile-analysis.md).

Positions are LSP positions: 0-based lines, characters in UTF-16 code units. Never raises: junk gives
instructions with unknown keywords or none, and `errors` holds what BuildKit would reject, with its message.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field, replace
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
_MAYBE_JSON = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL"})
_MAYBE_JSON_LIST = frozenset({"COPY", "ADD", "VOLUME"})
_WHITESPACE_DELIMITED = frozenset({"FROM", "EXPOSE"})
_STRING = frozenset({"MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"})
# directives.go `directiveRegexp` (Go's `\s` is ASCII only) and `validDirectives`.
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# parser.go `reHeredoc` and `reWhitespace`.
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)[\t\n\f\r ]*([^<]*)", re.DOTALL)
_SPLIT = re.compile(r"[\t\v\f\r ]+")
_KEYWORD = re.compile(r"[^\t\v\f\r ]+")
_MAX_LINE = 65536  # bufio.MaxScanTokenSize


@dataclass(frozen=True)
class Heredoc:
    """One heredoc as BuildKit's `parser.Heredoc` (`Name`, `FileDescriptor`, `Expand`, `Chomp`, `Content`)."""

    name: str
    strip_tabs: bool
    """`<<-NAME` (BuildKit's Chomp): leading tabs of the body and the terminator are ignored when run."""
    content: str
    """The body exactly as in the file (line endings kept; tabs not yet stripped), as BuildKit's `Content`."""
    start_line: int
    """First content line (0-based)."""
    end_line: int
    """The terminator line, or the last line of the file when unterminated."""
    terminated: bool
    fd: int = 0
    """The file descriptor before `<<` (`3<<IN1`); 0 when none is written, as in BuildKit."""
    expand: bool = True
    """False when any part of the name is quoted (`<<'EOF'`, `<<eo'f'`): the body is taken literally."""

    @property
    def script(self) -> str:
        """The body as the build sees it (leading tabs removed for `<<-`)."""
        return re.sub(r"(?m)^\t+", "", self.content) if self.strip_tabs else self.content


@dataclass(frozen=True)
class Flag:
    name: str
    value: str | None
    start: int
    """Offset of `--` in the instruction's logical text."""
    end: int
    text: str = ""
    """The flag word with quotes and escapes removed, as BuildKit's `extractBuilderFlags` returns it."""


@dataclass(frozen=True)
class ParseError:
    """Something BuildKit's parser (or its instruction parser) rejects: the build fails with `message`."""

    line: int
    end_line: int
    message: str


class PositionMap:
    """Maps offsets in an instruction's logical (joined) text back to document positions.

    The first physical line is kept in plain fields; only continued instructions allocate piece lists (a
    file of 100,000 one-line instructions must not cost 300,000 lists).
    """

    __slots__ = ("_col", "_line", "_more", "_source")

    def __init__(self, source: list[str], line: int, col: int) -> None:
        self._source = source
        self._line = line
        self._col = col
        self._more: tuple[list[int], list[int], list[int]] | None = None

    def add(self, offset: int, line: int, col: int) -> None:
        """A further physical line starting at `offset` of the logical text (the first is given at creation)."""
        if self._more is None:
            self._more = ([0], [self._line], [self._col])
        self._more[0].append(offset)
        self._more[1].append(line)
        self._more[2].append(col)

    def position(self, offset: int) -> lsp.Position:
        from lsprotocol import types as lsp  # lazily: importing lsprotocol costs ~0.4 s (CLI start-up)

        if self._more is None:
            line, col = self._line, self._col + offset
        else:
            offsets, lines, cols = self._more
            i = max(bisect.bisect_right(offsets, offset) - 1, 0)
            line = lines[i]
            col = cols[i] + (offset - offsets[i])
        text = self._source[line]
        col = min(col, len(text))
        if not text.isascii():
            col = len(text[:col].encode("utf-16-le", "surrogatepass")) // 2
        return lsp.Position(line=line, character=col)


@dataclass(frozen=True, eq=False, slots=True)
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
    node: Node = field(repr=False, default_factory=lambda: Node(""))
    """BuildKit's view of the instruction (its AST node): arguments after its line parser, JSON or not."""

    @property
    def args(self) -> str:
        return self.text[self.args_start :]

    @property
    def json_args(self) -> list[str] | None:
        """The exec-form argument list, or None for shell form (for keywords that have both)."""
        if self.keyword not in _JSON_INSTRUCTIONS or not self.node.json:
            return None
        return list(self.node.values)

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

    @property
    def assignments(self) -> list[tuple[str, str | None]]:
        """ARG, ENV and LABEL as (name, value not yet expanded) pairs; a bare ARG name has None.

        From BuildKit's line parsers (`parseNameOrNameVal`, `parseNameVal`): `ENV K V W` (no `=` in the first
        word) is one pair whose value is the rest of the line; `ENV K=a\\ b` is one pair too.
        """
        values = self.node.values
        if self.keyword == "ARG":
            out: list[tuple[str, str | None]] = []
            for word in values:
                key, eq, value = word.partition("=")
                out.append((key, value if eq else None))
            return out
        if self.keyword in ("ENV", "LABEL"):
            return [(values[k], values[k + 1]) for k in range(0, len(values) - 2, 3)]
        return []

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


class _NotStrings(ValueError):
    pass


def _reject_constant(name: str) -> object:
    raise ValueError(name)  # Go's encoding/json has no NaN/Infinity


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _json_array(rest: str) -> list[str] | None:
    """BuildKit's `parseJSON`: the string array, None when `rest` is no JSON array (then it is shell form).

    Raises `_NotStrings` for an array with anything but strings (`[1, 2]`, nested arrays): BuildKit's
    "arrays must be comprised of strings only", a parse error.
    """
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    try:
        value = _JSON.decode(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _NotStrings
    return value


def parse_json_list(args: str) -> list[str] | None:
    """The exec-form list if `args` is a JSON array of strings, else None."""
    stripped = args.strip()
    if not stripped.startswith("[") or not stripped.endswith("]"):
        return None
    try:
        return _json_array(stripped)
    except _NotStrings:
        return None


@dataclass(frozen=True)
class Node:
    """An instruction as BuildKit's parser returns it (`parser.Node`): what the conformance data compares."""

    keyword: str
    flags: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    """The arguments after the instruction's line parser (`line_parsers.go`), quotes kept where BuildKit
    keeps them (they are removed when the build expands the words)."""
    json: bool = False
    child: Node | None = None
    """ONBUILD's instruction."""

    def dump(self) -> str:
        """BuildKit's `Node.Dump` for one instruction (the lines of the testfiles' `result`)."""
        out = self.keyword.lower()
        if self.flags:
            out += " [" + " ".join(go_quote(f) for f in self.flags) + "]"
        if self.child is not None:
            out += " (" + self.child.dump() + ")"
        for v in self.values:
            out += " " + go_quote(v)
        return out.strip()


def go_quote(s: str) -> str:
    """Go's `strconv.Quote` (how BuildKit's dump writes each argument)."""
    out = ['"']
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif c in _GO_ESCAPES:
            out.append(_GO_ESCAPES[c])
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


@dataclass(frozen=True)
class ParsedDockerfile:
    instructions: tuple[Instruction, ...]
    escape: str
    directives: dict[str, str]
    errors: tuple[ParseError, ...]
    """What BuildKit rejects while parsing; the build fails on any of them."""
    lines: list[str] = field(repr=False)

    @property
    def problems(self) -> tuple[tuple[int, str], ...]:
        return tuple((e.line, e.message) for e in self.errors)


def _strip_continuation(line: str, escape: str) -> tuple[str, bool]:
    """parser.go `trimContinuationCharacter`: the line without a trailing escape (and blanks after it).

    As BuildKit's `lineContinuationRegex`: an escape preceded by another escape (`\\\\`) is a literal.
    """
    if not line or (line[-1] != escape and line[-1] not in " \t"):
        return line, False
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape) and (len(stripped) == 1 or stripped[-2] != escape):
        return stripped[:-1], True
    return line, False


def _is_comment(line: str) -> bool:
    # parser.go `isComment`: after Unicode whitespace (a no-break space included).
    return line.lstrip().startswith("#")


def _parse_words(rest: str, escape: str) -> list[str]:
    """line_parsers.go `parseWords`: split on blanks outside quotes, keeping quotes and escapes."""
    if "'" not in rest and '"' not in rest and escape not in rest:
        return rest.split()  # nothing quoted or escaped: plain blank splitting (the common case)
    words: list[str] = []
    buf: list[str] = []
    in_word = in_quote = blank_ok = False
    quote = ""
    i, n = 0, len(rest)
    while i < n:
        ch = rest[i]
        if not in_word and not in_quote:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if in_word:
            if ch.isspace():
                in_word = False
                if blank_ok or buf:
                    words.append("".join(buf))
                buf, blank_ok = [], False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, in_quote, in_word = ch, True, True, False
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue  # an escape at the very end is dropped
                buf.append(ch)
                i += 1
                ch = rest[i]
            buf.append(ch)
            i += 1
            continue
        # in a quote
        if ch == quote:
            in_quote, in_word = False, True
        if ch == escape and quote != "'":
            if i + 1 == n:
                in_quote, in_word = False, True
                i += 1
                continue
            buf.append(ch)
            i += 1
            ch = rest[i]
        buf.append(ch)
        i += 1
    if (in_word or in_quote) and (blank_ok or buf):
        words.append("".join(buf))
    return words


def _extract_flags(line: str, start: int, escape: str) -> tuple[list[Flag], int]:
    """split_command.go `extractBuilderFlags`: leading `--flag` words (quotes and escapes removed).

    Returns the flags and the offset in `line` where the arguments start.
    """
    flags: list[Flag] = []
    i, n = start, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i + 1 >= n or line[i] != "-" or line[i + 1] != "-":
            return flags, i
        begin = i
        buf: list[str] = []
        quote = ""
        blank_ok = False
        while i < n:
            ch = line[i]
            if quote:
                if ch == quote:
                    quote = ""
                    i += 1
                    continue
            elif ch.isspace():
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
                i += 1
                continue
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    quote = ""
                    continue
                i += 1
                ch = line[i]
            buf.append(ch)
            i += 1
        word = "".join(buf)
        if word == "--":
            # a lone `--` ends the flags (it is not one)
            if i >= n:
                return flags, n
            return flags, i
        if blank_ok or word:
            name, eq, value = word[2:].partition("=")
            flags.append(Flag(name, value if eq else None, begin, i, word))
        if i >= n:
            return flags, n


def _line_values(keyword: str, rest: str, escape: str) -> tuple[tuple[str, ...], bool, str | None]:
    """The instruction's arguments as its BuildKit line parser gives them: (values, json, error)."""
    try:
        if keyword in _MAYBE_JSON:
            if not rest:
                return (), False, None
            arr = _json_array(rest)
            return (tuple(arr), True, None) if arr is not None else ((rest,), False, None)
        if keyword in _MAYBE_JSON_LIST:
            arr = _json_array(rest)
            if arr is not None:
                return tuple(arr), True, None
            return (tuple(_SPLIT.split(rest)) if rest else ()), False, None
    except _NotStrings:
        return (), False, "when using JSON array syntax, arrays must be comprised of strings only"
    if keyword in ("ENV", "LABEL"):
        words = _parse_words(rest, escape)
        if not words:
            return (), False, None
        if "=" not in words[0]:
            parts = _SPLIT.split(rest, maxsplit=1)
            if len(parts) < 2:
                return (), False, f"{keyword} must have two arguments"
            return (parts[0], parts[1], ""), False, None
        values: list[str] = []
        for w in words:
            if "=" not in w:
                return (
                    (),
                    False,
                    (f"Syntax error - can't find = in {go_quote(w)}. Must be of the form: name=value"),
                )
            key, _, value = w.partition("=")
            values += [key, value, "="]
        return tuple(values), False, None
    if keyword == "ARG":
        return tuple(_parse_words(rest, escape)), False, None
    if keyword in _WHITESPACE_DELIMITED:
        return (tuple(_SPLIT.split(rest)) if rest else ()), False, None
    if keyword in _STRING:
        return ((rest,) if rest else ()), False, None
    if keyword == "HEALTHCHECK":
        # parseHealthConfig: the type word, then the command as RUN's
        sep = 0
        while sep < len(rest) and not rest[sep].isspace():
            sep += 1
        if sep == 0:
            return (), False, None
        nxt = sep
        while nxt < len(rest) and rest[nxt].isspace():
            nxt += 1
        cmd, is_json, error = _line_values("RUN", rest[nxt:], escape)
        return ((rest[:sep], *cmd) if error is None else ()), is_json, error
    return (), False, None  # parseIgnore (unknown instructions)


def _node(line: str, start: int, escape: str) -> tuple[Node, int, int, list[Flag], str | None]:
    """parser.go `newNodeFromLine` over `line[start:]`: (node, keyword end, args start, flags, error)."""
    m = _KEYWORD.match(line, start)
    if m is None:
        return Node(""), start, start, [], None
    keyword = m.group(0)
    flags, args_start = _extract_flags(line, m.end(), escape)
    rest = line[args_start:].strip()
    upper = keyword.upper()
    error: str | None = None
    child: Node | None = None
    values: tuple[str, ...] = ()
    is_json = False
    if upper == "ONBUILD":
        if rest:
            sub_start = args_start + (len(line[args_start:]) - len(line[args_start:].lstrip()))
            child, _, _, _, error = (
                _node(line, sub_start, escape)
                if not _is_onbuild(line, sub_start)
                else (
                    Node("ONBUILD"),
                    0,
                    0,
                    [],
                    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                )
            )
    else:
        values, is_json, error = _line_values(upper, rest, escape)
    node = Node(keyword, tuple(f.text for f in flags), values, is_json, child)
    return node, m.end(), args_start, flags, error


def _is_onbuild(line: str, start: int) -> bool:
    m = _KEYWORD.match(line, start)
    return m is not None and m.group(0).upper() == "ONBUILD"


def _heredoc_from_word(word: str) -> tuple[Heredoc | None, str | None]:
    """parser.go `ParseHeredoc`/`heredocFromMatch`: the heredoc a word starts, or None; or an error."""
    from debugbox.core.dockerfile.shell import Lexer, process_words

    m = _HEREDOC_WORD.fullmatch(word)
    if m is None or not m.group(3):
        return None, None
    rest = m.group(3)
    plain = process_words(rest, {}, lexer=Lexer(skip_unset=True))
    if plain.error is not None:
        return None, plain.error
    if len(plain.words) != 1:
        return None, None
    raw = process_words(rest, {}, lexer=Lexer(raw_quotes=True, skip_unset=True))
    if len(raw.words) != 1:
        return None, f"internal lexing of heredoc produced inconsistent results: {rest}"
    name = plain.words[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw.words[0].count("'") + raw.words[0].count('"')
    fd = int(m.group(1)) if m.group(1) else 0
    return Heredoc(name, m.group(2) == "-", "", 0, 0, False, fd, quotes == raw_quotes), None


def heredocs_in(line: str) -> tuple[list[Heredoc], str | None]:
    """parser.go `heredocsFromLine`: the heredocs a logical line opens, in order (names only)."""
    from debugbox.core.dockerfile.shell import Lexer, process_words

    # BuildKit lexes with `\` here whatever the escape directive says, quotes and escapes kept.
    words = process_words(line, {}, lexer=Lexer(raw_quotes=True, raw_escapes=True, skip_unset=True))
    docs: list[Heredoc] = []
    for word in words.words:
        if "<<" not in word:
            continue
        doc, error = _heredoc_from_word(word)
        if error is not None:
            return [], error
        if doc is not None:
            docs.append(doc)
    return docs, None


def _directives(lines: list[str], errors: list[ParseError]) -> dict[str, str]:
    """directives.go `DirectiveParser.ParseLine` over the first lines: `# key=value` for syntax/escape/check.

    Stops at the first line that is not such a comment (a blank line, another comment, an unknown key);
    leading whitespace is allowed (BuildKit trims it first). A repeated directive or an escape other than
    `\\` and `` ` `` is an error.
    """
    found: dict[str, str] = {}
    for i, raw in enumerate(lines):
        line = raw.lstrip()
        if not line.startswith("#"):
            break
        m = _DIRECTIVE.match(line[1:].lstrip())
        if m is None:
            break
        key = m.group(1).lower()
        if key not in _VALID_DIRECTIVES:
            break
        if key in found:
            errors.append(ParseError(i, i, f"only one {key} parser directive can be used"))
            break
        value = m.group(2)
        if key == "escape" and value not in ("\\", "`"):
            errors.append(ParseError(i, i, f"invalid escape token '{value}' does not match ` or \\"))
            break
        found[key] = value
    return found


def parse(text: str) -> ParsedDockerfile:
    """Parse a whole Dockerfile as BuildKit's `parser.Parse` does. Linear in the size of the text; never raises."""
    if text.startswith("\ufeff"):
        text = text[1:]
    raw_lines = text.split("\n")
    # parser.go `trimNewline`: every trailing CR goes (`\r\r\n` too).
    lines = [r.rstrip("\r") if r.endswith("\r") else r for r in raw_lines]
    errors: list[ParseError] = []
    directives = _directives(lines, errors)
    # parser.go `handleScannerError`: BuildKit's line scanner refuses a line of 64 KiB or more (UTF-8 bytes).
    for k, raw in enumerate(raw_lines):
        if len(raw) >= _MAX_LINE // 4 and len(raw.encode("utf-8", "surrogatepass")) >= _MAX_LINE:
            errors.append(
                ParseError(k, k, f"dockerfile line greater than max allowed size of {_MAX_LINE - 1}")
            )
            break
    escape = directives.get("escape", "\\")
    instructions: list[Instruction] = []
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start_line = i
        positions: PositionMap | None = None
        parts: list[str] = []
        offset = 0
        col = len(line) - len(stripped)
        last_line, last_end = i, len(line)
        while True:
            content, continued = _strip_continuation(
                (lines[i][col:] if col else lines[i]) if i == start_line else lines[i], escape
            )
            if positions is None:
                positions = PositionMap(lines, i, col)
            else:
                positions.add(offset, i, 0)
            parts.append(content)
            offset += len(content)
            last_line, last_end = i, len(lines[i])
            i += 1
            if not continued:
                break
            # Blank and comment lines inside a continuation are dropped (BuildKit does the same).
            while i < n and (not lines[i].strip() or _is_comment(lines[i])):
                i += 1
            if i >= n:
                break
        logical = parts[0] if len(parts) == 1 else "".join(parts)
        assert positions is not None
        node, keyword_end, args_start, flags, error = _node(logical, 0, escape)
        keyword = node.keyword.upper()
        args_start = len(logical) - len(logical[args_start:].lstrip())
        if error is not None:
            errors.append(ParseError(start_line, last_line, error))
        heredocs: list[Heredoc] = []
        target = node.child if node.child is not None else node
        if target.keyword.upper() in _HEREDOC_INSTRUCTIONS and not target.json and "<<" in logical:
            found, error = heredocs_in(logical)
            if error is not None:
                errors.append(ParseError(start_line, last_line, error))
            for doc in found:
                body: list[str] = []
                first = i
                terminated = False
                while i < n:
                    candidate = lines[i].lstrip("\t") if doc.strip_tabs else lines[i]
                    if candidate == doc.name:
                        terminated = True
                        break
                    body.append(raw_lines[i] + ("\n" if i < n - 1 else ""))
                    i += 1
                if terminated:
                    last_line, last_end = i, len(lines[i])
                    i += 1
                else:
                    errors.append(ParseError(start_line, n - 1, f"unterminated heredoc <<{doc.name}"))
                    last_line = n - 1
                    last_end = len(lines[-1])
                heredocs.append(
                    replace(
                        doc,
                        content="".join(body),
                        start_line=first,
                        end_line=last_line,
                        terminated=terminated,
                    )
                )
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
                node=node,
            )
        )
    if not instructions and not errors:
        errors.append(ParseError(max(n - 1, 0), max(n - 1, 0), "file with no instructions"))
    return ParsedDockerfile(tuple(instructions), escape, directives, tuple(errors), lines)
