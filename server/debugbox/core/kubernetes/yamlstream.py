"""A YAML stream as documents, and a light positioned tree per document, built from libyaml's event stream.

Why not `yaml.compose`: composing a large stream into PyYAML nodes costs about ten times libyaml's event pass,
and the analysis needs far less (keys, scalars, where they are). So:

* `split_documents(text)` cuts the stream at `---` / `...` lines with one regular expression. That is exact: a
  line starting with a document marker ends any scalar or collection in YAML (the markers are forbidden inside
  content at column 0), so no parse is needed to find document boundaries. Each `Chunk` keeps its own text, so
  callers can cache per-document results by text and re-parse only the documents that changed.
* `parse_tree(chunk_text)` drives the C event parser (pure-Python fallback) once and builds `Map` / `Seq` /
  `Scalar` / `Alias` nodes carrying character offsets, lines and columns relative to the chunk. Aliases are
  kept as `Alias` nodes and never expanded, so alias bombs ("billion laughs") cost one node per alias.
* `check_syntax(chunk_text)` runs the parser at C speed without building anything, for documents whose
  structure the analysis does not need.

All positions are 0-based; columns and offsets count characters (code points), as libyaml reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C parser is ~10x faster; PyYAML without libyaml still works, only slower
    from yaml._yaml import CParser as _Parser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import Loader as _Parser  # type: ignore[assignment]

    HAVE_LIBYAML = False

# Line breaks, as YAML 1.1 (libyaml, PyYAML) reads them: also NEL and the Unicode line/paragraph separators.
# LSP counts only \n, \r\n and \r (`LSP_BREAK`); the two disagree on lines holding NEL/LS/PS.
_B = "\r\n\x85\u2028\u2029"
YAML_BREAK = re.compile(rf"\r\n|[{_B}]")
LSP_BREAK = re.compile(r"\r\n|[\r\n]")
_LINE_START = rf"(?:^|(?<=[{_B}]))"  # `re.M`'s `^` only knows \n
_MARKER = re.compile(rf"{_LINE_START}(?:---|\.\.\.)(?=[ \t{_B}]|$)")
_CONTENT_LINE = re.compile(rf"{_LINE_START}[ \t]*[^ \t{_B}#%]")
# The same for a text whose only line break is \n (nearly every file): `re.M` is three times faster.
_MARKER_NL = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_CONTENT_LINE_NL = re.compile(r"^[ \t]*[^ \t\r\n#%]", re.M)


def only_newlines(text: str) -> bool:
    """Whether `\n` is the text's only line break (nearly every file): then `re.M`'s `^` finds line starts."""
    return "\r" not in text and (text.isascii() or not any(c in text for c in "\x85\u2028\u2029"))


#: Nesting deeper than this is a parse error (no real manifest comes close; deep nesting is an attack).
MAX_DEPTH = 1000


@dataclass(frozen=True, slots=True)
class Chunk:
    """One document's slice of the stream."""

    start: int
    """Character offset of the chunk in the whole text."""
    line: int
    """0-based line of `start` in the whole text, as LSP counts lines (`\n`, `\r\n`, `\r`)."""
    text: str
    index: int | None
    """0-based index of the YAML document in the stream; None for a chunk of only comments/blank lines."""


def split_documents(text: str) -> list[Chunk]:
    """Cut `text` into chunks, one per YAML document (plus comment-only chunks, `index` None)."""
    bounds: list[tuple[int, int, bool]] = []  # (start, end, explicit)
    start, explicit = 0, False
    marker, content = (_MARKER_NL, _CONTENT_LINE_NL) if only_newlines(text) else (_MARKER, _CONTENT_LINE)
    for m in marker.finditer(text):
        if text.startswith("---", m.start()):
            if m.start() > start or explicit:
                bounds.append((start, m.start(), explicit))
            start, explicit = m.start(), True
        else:  # `...` ends the current document; its line belongs to it
            brk = YAML_BREAK.search(text, m.end())
            end = len(text) if brk is None else brk.end()
            bounds.append((start, end, explicit))
            start, explicit = end, False
    if start < len(text) or explicit:
        bounds.append((start, len(text), explicit))
    chunks: list[Chunk] = []
    line, pos, index = 0, 0, 0
    for begin, end, is_explicit in bounds:
        line += count_lsp_breaks(text, pos, begin)
        pos = begin
        body = text[begin:end]
        if is_explicit or content.search(body):
            chunks.append(Chunk(begin, line, body, index))
            index += 1
        else:
            chunks.append(Chunk(begin, line, body, None))
    return chunks


def count_lsp_breaks(text: str, start: int = 0, end: int | None = None) -> int:
    """Line breaks in `text[start:end]` as LSP counts them (a `\r\n` is one)."""
    end = len(text) if end is None else end
    n = text.count("\n", start, end) + text.count("\r", start, end)
    return n - text.count("\r\n", start, end)


def count_yaml_breaks(text: str, start: int = 0, end: int | None = None) -> int:
    """Line breaks in `text[start:end]` as libyaml counts them (its marks' `line`)."""
    end = len(text) if end is None else end
    return count_lsp_breaks(text, start, end) + sum(text.count(c, start, end) for c in "\x85\u2028\u2029")


def yaml_line_offset(text: str, line: int) -> int:
    """Offset of the start of 0-based libyaml line `line` (the end of `text` past its last line)."""
    pos = 0
    for _ in range(line):
        m = YAML_BREAK.search(text, pos)
        if m is None:
            return len(text)
        pos = m.end()
    return pos


def yaml_line_start(text: str, index: int) -> int:
    """Offset of the start of the YAML line holding `index`."""
    start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    return max(start, *(text.rfind(c, start, index) + 1 for c in "\x85\u2028\u2029"))


class Node:
    """A positioned YAML node; offsets are relative to the chunk it was parsed from."""

    __slots__ = ("anchor", "col", "end", "end_col", "end_line", "line", "start", "tag")

    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int
    anchor: str | None
    tag: str | None


class Scalar(Node):
    __slots__ = ("style", "value")

    value: str
    style: str
    """`""` plain, `'` / `"` quoted, `|` / `>` block."""

    @property
    def is_empty(self) -> bool:
        """A missing value (`key:` with nothing after it); its marks point at the next token, not at text."""
        return self.style == "" and self.value == "" and self.start == self.end


class Map(Node):
    __slots__ = ("flow", "pairs")

    pairs: list[tuple[Node, Node]]
    flow: bool


class Seq(Node):
    __slots__ = ("flow", "items")

    items: list[Node]
    flow: bool


class Alias(Node):
    __slots__ = ("name",)

    name: str


@dataclass(frozen=True, slots=True)
class ParseError(Exception):
    line: int
    col: int
    message: str


@dataclass(slots=True)
class Tree:
    root: Node | None
    anchors: dict[str, Node]


def parser_input(chunk_text: str) -> tuple[str, int]:
    """The text to hand to libyaml and the offset shift: a BOM is dropped (libyaml would not count it),
    and tabs in a JSON document become spaces (JSON allows tab indentation, YAML does not; a JSON string
    cannot hold a raw tab, so every tab is whitespace and the swap keeps every offset)."""
    shift = 0
    if chunk_text.startswith("\ufeff"):
        chunk_text, shift = chunk_text[1:], 1
    if "\t" in chunk_text and chunk_text.lstrip()[:1] in ("{", "["):
        chunk_text = chunk_text.replace("\t", " ")
    return chunk_text, shift


def _error(exc: Exception) -> ParseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else str(problem)
    if mark is None:
        return ParseError(0, 0, message)
    return ParseError(mark.line, mark.column, message)


def check_syntax(chunk_text: str) -> ParseError | None:
    """Parse without building anything; the first syntax error, if any."""
    source, _ = parser_input(chunk_text)
    parser = _Parser(source)
    try:
        if HAVE_LIBYAML:
            parser.raw_parse()
        else:  # pragma: no cover
            while parser.check_event():
                parser.get_event()
    except yaml.YAMLError as exc:
        return _error(exc)
    finally:
        parser.dispose()
    return None


#: What to build of a document: a dict names the keys of a mapping to build (the values by their own
#: schema; other keys are kept with their values as `Stub`s), a one-element list gives the schema of a
#: sequence's items, `ALL` builds everything below. Anything else is skipped at event speed, kept as a `Stub`.
Schema = dict[str, Any] | list[Any] | bool
ALL: Schema = True


class Stub(Node):
    """A collection that was not built: where it is, and the last line holding its text."""

    __slots__ = ("flow", "is_map", "last")

    is_map: bool
    flow: bool
    last: int | None


def parse_tree(chunk_text: str, schema: Schema = ALL) -> Tree:
    """The first document of `chunk_text` as a positioned tree, built as far as `schema` asks; raises
    `ParseError`."""
    source, shift = parser_input(chunk_text)
    parser = _Parser(source)
    try:
        return _build(parser, shift, schema, source)
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    finally:
        parser.dispose()


def _block_scalar_last(ev: Any, source: str) -> int:
    """Last line with text of a block scalar (libyaml's end mark lies past its trailing line breaks)."""
    start, end = ev.start_mark.index, ev.end_mark.index
    while end > start and source[end - 1] in " \t\r\n":
        end -= 1
    return int(ev.start_mark.line) + count_yaml_breaks(source, start, end)


def _skip(get: Any, ev: Any, shift: int, source: str) -> Stub:
    """Consume a collection's events without building it."""
    stub = Stub()
    mark = ev.start_mark
    stub.start, stub.line, stub.col = mark.index + shift, mark.line, mark.column
    stub.anchor, stub.tag = ev.anchor, ev.tag
    stub.is_map = type(ev) is yaml.MappingStartEvent
    stub.flow = bool(ev.flow_style)
    # The hot loop of the whole analysis: per event only a type test; the last event holding text is kept
    # and looked at once at the end.
    scalar_ev, alias_ev = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    last_ev: Any = None
    depth = 1
    while depth:
        ev = get()
        t = type(ev)
        if t is scalar_ev or t is alias_ev:
            last_ev = ev
        elif t is map_start or t is seq_start:
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError(
                    ev.start_mark.line, ev.start_mark.column, f"nesting deeper than {MAX_DEPTH} levels"
                )
        else:
            depth -= 1
            if last_ev is not ev and ev.end_mark.index != ev.start_mark.index:
                last_ev = ev  # a flow collection's closing bracket is text
    mark = ev.end_mark
    stub.end, stub.end_line, stub.end_col = mark.index + shift, mark.line, mark.column
    if last_ev is None:
        stub.last = None
    elif type(last_ev) is scalar_ev and last_ev.style in ("|", ">"):
        stub.last = _block_scalar_last(last_ev, source)
    else:
        stub.last = last_ev.end_mark.line
    return stub


def _child_schema(schema: Schema, key: Node | None) -> Schema | None:
    if schema is True:
        return True
    if isinstance(schema, list):
        return schema[0] if schema else None
    if isinstance(schema, dict) and isinstance(key, Scalar):
        return schema.get(key.value)
    return None


def _build(parser: Any, shift: int, schema: Schema, source: str) -> Tree:
    get = parser.get_event
    stack: list[Node] = []
    schemas: list[Schema] = []
    keys: list[Node | None] = []  # pending key per open mapping (None: expecting a key)
    anchors: dict[str, Node] = {}
    root: Node | None = None
    scalar_ev, alias_ev = yaml.ScalarEvent, yaml.AliasEvent
    map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    end_evs = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    doc_end, stream_end = yaml.DocumentEndEvent, yaml.StreamEndEvent
    started = False
    while True:
        ev: Any = get()
        t = type(ev)
        node: Node
        child: Schema | None = schema
        if t is scalar_ev:
            node = Scalar()
            node.value = ev.value
            node.style = ev.style or ""
        elif t is map_start or t is seq_start:
            if stack:
                if type(stack[-1]) is Map:
                    key = keys[-1]
                    child = None if key is None else _child_schema(schemas[-1], key)
                else:
                    child = _child_schema(schemas[-1], None)
            if (child is None or child is False) and ev.anchor is not None:
                # An anchored collection is built whatever the schema says: an alias or a merge key (`<<: *d`)
                # elsewhere may bring it into a pod spec. Built once as written, never expanded.
                child = ALL
            if child is None or child is False:
                node = _skip(get, ev, shift, source)
            elif t is map_start:
                node = Map()
                node.pairs = []
                node.flow = bool(ev.flow_style)
            else:
                node = Seq()
                node.items = []
                node.flow = bool(ev.flow_style)
        elif t in end_evs:
            done = stack.pop()
            keys.pop()
            schemas.pop()
            mark = ev.end_mark
            done.end, done.end_line, done.end_col = mark.index + shift, mark.line, mark.column
            continue
        elif t is alias_ev:
            node = Alias()
            node.name = ev.anchor
        elif t is doc_end:
            if started:
                break
            continue
        elif t is stream_end:
            break
        else:  # stream / document start
            started = started or t is yaml.DocumentStartEvent
            continue
        if type(node) is not Stub:
            mark = ev.start_mark
            node.start, node.line, node.col = mark.index + shift, mark.line, mark.column
            if t is not map_start and t is not seq_start:
                mark = ev.end_mark
                node.end, node.end_line, node.end_col = mark.index + shift, mark.line, mark.column
            node.anchor = ev.anchor if t is not alias_ev else None
            node.tag = getattr(ev, "tag", None)
        if node.anchor is not None:
            anchors[node.anchor] = node
        if stack:
            parent = stack[-1]
            if type(parent) is Map:
                key = keys[-1]
                if key is None:
                    keys[-1] = node
                else:
                    parent.pairs.append((key, node))
                    keys[-1] = None
            else:
                parent.items.append(node)  # type: ignore[attr-defined]
        else:
            root = node
        if type(node) is Map or type(node) is Seq:
            if len(stack) >= MAX_DEPTH:
                raise ParseError(node.line, node.col, f"nesting deeper than {MAX_DEPTH} levels")
            stack.append(node)
            keys.append(None)
            schemas.append(child if child is not None else True)
    return Tree(root, anchors)


def is_null(node: Node | None) -> bool:
    return node is None or (
        isinstance(node, Scalar) and node.style == "" and node.value in ("", "~", "null", "Null", "NULL")
    )


def scalar_text(node: Node | None) -> str | None:
    """A scalar's value as a string, None for anything else (including nulls)."""
    if isinstance(node, Scalar) and not is_null(node):
        return node.value
    return None


def bool_value(node: Node | None) -> bool | None:
    """YAML 1.1 booleans as PyYAML and Kubernetes' YAML reader resolve them; None for anything else."""
    if isinstance(node, Scalar) and node.style == "" and node.tag in (None, "tag:yaml.org,2002:bool"):
        if node.value in _TRUE:
            return True
        if node.value in _FALSE:
            return False
    return None


_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
