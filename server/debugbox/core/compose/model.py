"""The one compose file reader: each service's image, `build:`, `pid`,
`network_mode`, `command`, `entrypoint` and `healthcheck`, with where they are in the text.

Built on the manifest reader's positioned tree (`core/kubernetes/yamlstream.parse_tree`), so the same bounds
hold: aliases are never expanded (one node per alias), merge keys (`<<: *defaults`, common in compose files'
`x-` extension fields) are followed a bounded number of levels (`pod_spec.get`), nesting is limited
(`yamlstream.MAX_DEPTH`). Only the first YAML document is read, as compose does. Never raises on bad input:
a file that does not parse gives a `ComposeFile` with `error` set and no services.

`build_dockerfile` resolves a `build:` to the Dockerfile path lexically (relative to the compose file's
folder, as compose does) and says when it lies outside the workspace; the edge reads it, the core never does.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from lsprotocol import types as lsp

from debugbox.core.kubernetes.pod_spec import deref, get, to_python
from debugbox.core.kubernetes.yamlstream import (
    LSP_BREAK,
    Map,
    Node,
    ParseError,
    Scalar,
    Seq,
    parse_tree,
    scalar_text,
    split_documents,
)

#: At most this many `include:` paths are read from one file.
MAX_INCLUDES = 16
#: The service keys the reader looks at (everything else is left as it is written).
SERVICE_KEYS = (
    "image",
    "build",
    "pid",
    "network_mode",
    "command",
    "entrypoint",
    "healthcheck",
    "profiles",
    "container_name",
    "extends",
)


class Lines:
    """Character offsets of a text → LSP positions (lines as LSP counts them, UTF-16 columns)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in LSP_BREAK.finditer(text))]

    def position(self, index: int) -> lsp.Position:
        line = bisect.bisect_right(self.starts, index) - 1
        start = self.starts[line]
        col = len(self.text[start:index].encode("utf-16-le")) // 2
        return lsp.Position(line=line, character=col)

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(max(start, end)))


@dataclass(frozen=True, slots=True)
class Located:
    """A value as written, and where (absolute offsets into the compose file's text)."""

    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Build:
    """A service's `build:`: the context and Dockerfile as written (context None for a git/URL context)."""

    context: str | None
    dockerfile: str
    target: str | None
    where: Located
    inline: bool = False
    """`dockerfile_inline:`: there is no file to read."""
    folder: str | None = None
    """The folder of the file that declared it, when not this compose file's (a service inherited with
    `extends: {file: …}` or included): its context is relative to that folder (`core/compose/includes.py`)."""


@dataclass(frozen=True, slots=True)
class Command:
    """A `command`, `entrypoint` or `healthcheck.test`: the words, and whether compose hands it to a shell."""

    key: str
    words: tuple[str, ...]
    shell: bool
    """True when it runs `/bin/sh -c` (a health check string or `CMD-SHELL`)."""
    where: Located


@dataclass(frozen=True, slots=True)
class Extends:
    """A service's `extends:`: the base service, and its file (None: this file), as written."""

    service: str
    file: str | None
    where: Located


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    key: Located
    """The service's key in `services:`."""
    start: int
    end: int
    """Offsets of the whole entry (key to the end of its value)."""
    image: Located | None = None
    build: Build | None = None
    pid: Located | None = None
    network_mode: Located | None = None
    commands: tuple[Command, ...] = ()
    profiles: tuple[str, ...] = ()
    container_name: Located | None = None
    extends: Extends | None = None
    inherited: str | None = None
    """Where the keys it does not set itself come from (`api in common.yaml`), once `extends:` is followed."""
    origin: str | None = None
    """The file it is defined in when it was included (`include:`); None for this file's own services."""
    over: str | None = None
    """In an override file (`compose.override.yaml`), the base file's service it is merged over (`api in
    compose.yaml`): the keys it does not set come from there."""
    present: frozenset[str] = frozenset()
    """Which of `SERVICE_KEYS` it sets (even to something debugbox does not use, as `healthcheck: {disable:
    true}`): those are not inherited through `extends:`."""


@dataclass(slots=True)
class ComposeFile:
    text: str
    services: list[Service] = field(default_factory=list)
    name: str | None = None
    """Top-level `name:` (the project name), when set."""
    error: ParseError | None = None
    """Why the file could not be read (line/column absolute)."""
    services_node: Node | None = None
    """The `services:` value (for edits), with the offsets of the document it is in."""
    root: Map | None = None
    anchors: dict[str, Node] = field(default_factory=dict)
    doc_start: int = 0
    includes: list[Located] = field(default_factory=list)
    """The top-level `include:` paths as written (short syntax, and each `path` of the long one)."""
    included: list[Service] = field(default_factory=list)
    """The services of the included files (`core/compose/includes.resolve`), located at their `include:` entry."""
    base_services: dict[str, str] = field(default_factory=dict)
    """In an override file (or a variant that cannot be used alone), the services of the base files compose
    merges it over: name → the base file's name (`core/compose/includes.py`)."""
    base_only: dict[str, str] = field(default_factory=dict)
    """In a variant file that may be used alone (`compose.prod.yaml`), the services of the base files beside it,
    which it has only when used with them (`-f compose.yaml -f compose.prod.yaml`): name → the base file's name."""
    override_only: dict[str, str] = field(default_factory=dict)
    """In a base file (`compose.yaml`), the services only the override files beside it define, which compose
    merges over it by itself (`docker compose` without `-f`): name → the override file's name."""
    x_podman: dict[str, Any] = field(default_factory=dict)
    """The top-level `x-podman:` extension (podman-compose's settings, e.g. its container name separator)."""

    _index: tuple[list[Service], int, dict[str, Service]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """`services` by name, for the list and length it was built from (`service`)."""

    def service(self, name: str) -> Service | None:
        """The service named `name`, looked up in an index built once per services list: `extends:` and an
        override's base file look a name up once per service, and scanning the list each time made reading a
        file of 6000 services take seconds."""
        index = self._index
        if index is None or index[0] is not self.services or index[1] != len(self.services):
            by_name: dict[str, Service] = {}
            for service in self.services:
                by_name.setdefault(service.name, service)
            index = self._index = (self.services, len(self.services), by_name)
        return index[2].get(name)


def _located(node: Node, base: int) -> Located:
    return Located(scalar_text(node) or "", node.start + base, node.end + base)


def _words(node: Node | None, anchors: dict[str, Node]) -> tuple[str, ...] | None:
    node, _ = deref(node, anchors)
    if isinstance(node, Seq):
        words = []
        for item in node.items[:1000]:
            word = scalar_text(deref(item, anchors)[0])
            if word is None:
                return None
            words.append(word)
        return tuple(words)
    text = scalar_text(node)
    return None if text is None else (text,)


def _command(key: str, node: Node | None, anchors: dict[str, Node], base: int) -> Command | None:
    value, _ = deref(node, anchors)
    words = _words(value, anchors)
    if value is None or not words:
        return None
    where = Located(" ".join(words), value.start + base, value.end + base)
    if key == "healthcheck.test":
        if isinstance(value, Scalar):  # a string is `CMD-SHELL` (compose spec, healthcheck)
            return Command(key, words, True, where)
        head, rest = words[0], words[1:]
        if head == "CMD-SHELL":
            return Command(key, rest, True, where)
        if head == "CMD":
            return Command(key, rest, False, where)
        return None  # NONE, or not a command
    # A string `command`/`entrypoint` is split into words by compose (no shell); lists are taken as they are.
    if isinstance(value, Scalar):
        return Command(key, tuple(words[0].split()), False, where)
    return Command(key, words, False, where)


def _build(node: Node | None, anchors: dict[str, Node], base: int) -> Build | None:
    value, _ = deref(node, anchors)
    if value is None:
        return None
    text = scalar_text(value)
    if text is not None:
        context = None if "://" in text or text.startswith("git@") else text
        return Build(context, "Dockerfile", None, Located(text, value.start + base, value.end + base))
    if not isinstance(value, Map):
        return None
    context = scalar_text(get(value, "context", anchors)[1]) or "."
    dockerfile = scalar_text(get(value, "dockerfile", anchors)[1]) or "Dockerfile"
    target = scalar_text(get(value, "target", anchors)[1])
    inline = get(value, "dockerfile_inline", anchors)[1] is not None
    remote = "://" in context or context.startswith("git@")
    return Build(
        None if remote else context,
        dockerfile,
        target,
        Located(context, value.start + base, value.end + base),
        inline,
    )


def _service(name_node: Scalar, value: Node, anchors: dict[str, Node], base: int) -> Service:
    spec, _ = deref(value, anchors)
    found: dict[str, Node | None] = {k: get(spec, k, anchors)[1] for k in SERVICE_KEYS}
    commands = [
        _command(key, found[key], anchors, base)
        for key in ("command", "entrypoint")
        if found[key] is not None
    ]
    health = found["healthcheck"]
    if health is not None:
        commands.append(_command("healthcheck.test", get(health, "test", anchors)[1], anchors, base))
    profiles = to_python(found["profiles"], anchors)
    return Service(
        name=name_node.value,
        key=_located(name_node, base),
        start=name_node.start + base,
        end=value.end + base,
        image=_scalar(found["image"], anchors, base),
        build=_build(found["build"], anchors, base),
        pid=_scalar(found["pid"], anchors, base),
        network_mode=_scalar(found["network_mode"], anchors, base),
        commands=tuple(c for c in commands if c is not None),
        profiles=tuple(str(p) for p in profiles) if isinstance(profiles, list) else (),
        container_name=_scalar(found["container_name"], anchors, base),
        extends=_extends(found["extends"], anchors, base),
        present=frozenset(k for k, v in found.items() if v is not None),
    )


def _extends(node: Node | None, anchors: dict[str, Node], base: int) -> Extends | None:
    """`extends: base` or `extends: {service: base, file: common.yaml}`."""
    value, _ = deref(node, anchors)
    if value is None:
        return None
    where = Located(scalar_text(value) or "", value.start + base, value.end + base)
    text = scalar_text(value)
    if text is not None:
        return Extends(text, None, where) if text else None
    service = scalar_text(get(value, "service", anchors)[1])
    if not isinstance(value, Map) or not service:
        return None
    return Extends(service, scalar_text(get(value, "file", anchors)[1]) or None, where)


def _includes(node: Node | None, anchors: dict[str, Node], base: int) -> list[Located]:
    """The paths of a top-level `include:` (compose spec, 14-include.md): strings, or `path:` (a string or a
    list of strings) in the long syntax."""
    value, _ = deref(node, anchors)
    out: list[Located] = []
    if not isinstance(value, Seq):
        return out
    for item in value.items[:MAX_INCLUDES]:
        entry, _ = deref(item, anchors)
        if isinstance(entry, Map):
            entry, _ = deref(get(entry, "path", anchors)[1], anchors)
        paths = entry.items[:MAX_INCLUDES] if isinstance(entry, Seq) else [entry]
        for path in paths:
            located = _scalar(path, anchors, base)
            if located is not None and located.value:
                out.append(located)
    return out[:MAX_INCLUDES]


def _scalar(node: Node | None, anchors: dict[str, Node], base: int) -> Located | None:
    value, _ = deref(node, anchors)
    text = scalar_text(value)
    if value is None or text is None:
        return None
    return Located(text, value.start + base, value.end + base)


def read_compose(text: str) -> ComposeFile:
    """The compose file in `text`: its services in text order (never raises)."""
    out = ComposeFile(text)
    chunk = next((c for c in split_documents(text) if c.index is not None), None)
    if chunk is None:
        return out
    try:
        tree = parse_tree(chunk.text)
    except ParseError as exc:
        out.error = ParseError(exc.line + chunk.line, exc.col, exc.message)
        return out
    root, _ = deref(tree.root, tree.anchors)
    if not isinstance(root, Map):
        return out
    out.root, out.anchors, out.doc_start = root, tree.anchors, chunk.start
    out.name = scalar_text(get(root, "name", tree.anchors)[1])
    out.includes = _includes(get(root, "include", tree.anchors)[1], tree.anchors, chunk.start)
    x_podman = to_python(get(root, "x-podman", tree.anchors)[1], tree.anchors)
    out.x_podman = x_podman if isinstance(x_podman, dict) else {}
    services_value = get(root, "services", tree.anchors)[1]
    out.services_node = services_value
    services, _ = deref(services_value, tree.anchors)
    if not isinstance(services, Map):
        return out
    seen: set[str] = set()
    for key, value in services.pairs:
        if not isinstance(key, Scalar) or key.value == "<<" or key.value in seen:
            continue
        seen.add(key.value)
        out.services.append(_service(key, value, tree.anchors, chunk.start))
    return out


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: `${A:-${B:-…}}` deeper than this is not followed (a hostile file could nest it until the stack ends).
_MAX_NESTING = 8


@dataclass(frozen=True, slots=True)
class Unset:
    """A value as compose interpolates it when none of its variables is set."""

    text: str | None
    """None when a variable is required (`${VAR:?msg}`: compose refuses the file then), or the defaults nest
    deeper than `_MAX_NESTING`."""
    variables: tuple[str, ...]
    """The variables it names, in order (empty: the value is the same in every environment)."""


def _closing(value: str, start: int) -> int | None:
    """The offset just past the `}` closing a `${` opened before `start` (a default may hold `${…}` itself)."""
    depth, i = 1, start
    while i < len(value):
        if value.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if value[i] == "}":
            depth -= 1
            if not depth:
                return i + 1
        i += 1
    return None


def interpolate_unset(value: str, _nesting: int = 0) -> Unset:
    """`value` with compose's interpolation applied as if no variable were set (compose spec, 12-interpolation.md):
    `$$` is `$`; `$VAR`, `${VAR}`, `${VAR:+alt}` and `${VAR+alt}` are empty; `${VAR:-default}` and
    `${VAR-default}` are the default (interpolated in turn); `${VAR:?msg}` and `${VAR?msg}` make it None.
    Text compose would reject (an unclosed `${`) is kept as written."""
    if _nesting > _MAX_NESTING:
        return Unset(None, ())
    out: list[str] = []
    names: list[str] = []
    required = False
    i = 0
    while i < len(value):
        dollar = value.find("$", i)
        if dollar < 0 or dollar + 1 >= len(value):
            out.append(value[i:])
            break
        out.append(value[i:dollar])
        nxt = value[dollar + 1]
        if nxt == "$":
            out.append("$")
            i = dollar + 2
            continue
        if nxt != "{":
            m = _VARIABLE.match(value, dollar + 1)
            if m is None:
                out.append("$")
                i = dollar + 1
            else:
                names.append(m.group(0))
                i = m.end()
            continue
        m = _VARIABLE.match(value, dollar + 2)
        end = _closing(value, dollar + 2)
        if m is None or end is None:
            out.append(value[dollar:])
            break
        names.append(m.group(0))
        rest = value[m.end() : end - 1]
        operator = next((op for op in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(op)), None)
        if operator is None and rest:
            out.append(value[dollar:end])  # `${VAR junk}`: compose rejects it; kept as written
        elif operator in (":-", "-"):
            inner = interpolate_unset(rest[len(operator) :], _nesting + 1)
            names += inner.variables
            required = required or inner.text is None
            out.append(inner.text or "")
        elif operator in (":?", "?"):
            required = True
        i = end
    variables = tuple(dict.fromkeys(names))
    return Unset(None if required else "".join(out), variables)


@dataclass(frozen=True, slots=True)
class BuildPath:
    """Where a `build:` service's Dockerfile is, lexically resolved."""

    dockerfile: PurePath
    outside: bool
    """True when it lies outside the workspace folder given (it is then not read without saying so)."""


def _normal(path: PurePath) -> PurePath:
    """`path` with `.` and `..` resolved lexically (symlinks are the edge's business)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts and parts[-1] != path.anchor:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return type(path)(*parts) if parts else type(path)(".")


def normal_path(path: PurePath) -> PurePath:
    """`path` with `.` and `..` resolved lexically (what compose does with the relative paths it reads)."""
    return _normal(path)


def build_dockerfile(
    compose_dir: PurePath, build: Build, workspace: PurePath | None = None
) -> BuildPath | None:
    """The Dockerfile a `build:` uses (the context relative to the compose file's folder, the Dockerfile
    relative to the context, as compose resolves them); None for a git/URL context or `dockerfile_inline`."""
    if build.context is None or build.inline:
        return None
    folder = type(compose_dir)(build.folder) if build.folder is not None else compose_dir
    path = _normal(folder / build.context / build.dockerfile)
    outside = False
    if workspace is not None:
        root = _normal(workspace)
        outside = path != root and root not in path.parents
    return BuildPath(path, outside)
