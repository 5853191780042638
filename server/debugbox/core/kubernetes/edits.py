"""Minimal, formatting-preserving edits to a pod spec: `shareProcessNamespace: true` and a debug sidecar.

Pure: a `DocumentScan` and one of its `PodScan`s in, `Edit`s (character offsets relative to the document) out,
or `Refused` / `NothingToDo` with a reason a user can act on. Nothing outside the edited spots changes.

Where `shareProcessNamespace: true` goes (the rules, in order):

1. The key exists with any other value than true: the value alone is replaced by `true` (a trailing
   comment, the key's spelling and the indentation stay).
2. Block style: one new line at the pod spec's own indentation, directly after the last key of the pod
   spec whose value fits on the key's line (`restartPolicy: Always`, `nodeSelector: {}`). Comments in YAML
   conventionally sit above the key they describe, so inserting *after* a one-line pair never separates a
   comment from its key; inserting after a multi-line value would put the line below its trailing comments.
   A pair on a last line without a final newline is skipped (inserting after it would change that line).
3. Block style without such a key (only lists and maps): the new line goes directly under the pod spec's
   own key line (`spec:`), so comments above the first key stay on top of that key.
4. Flow style and JSON: written inline before the first key (`{shareProcessNamespace: true, ...}`), or as
   its own line when the mapping is pretty-printed one key per line (JSON files), with a trailing comma.

Line endings follow the document (CRLF stays CRLF); a document without a final newline keeps having none.
Refused: `hostPID: true` (the API rejects both together) and pod specs written through a YAML alias or
merge key (editing the anchor would change every place that uses it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from debugbox.core.kubernetes.pod_spec import DocumentScan, PodScan, deref, get, last_line
from debugbox.core.kubernetes.yamlstream import Alias, Map, Node, Scalar, Seq, Stub, scalar_text

SPN_KEY = "shareProcessNamespace"
HOST_PID_REASON = (
    "hostPID: true is set: the pod already uses the host's PID namespace, and Kubernetes rejects "
    "shareProcessNamespace together with hostPID"
)
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/:@+-]*$")


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    """Character offset (relative to whatever text the edit was computed for)."""
    end: int
    text: str

    def shifted(self, by: int) -> Edit:
        return Edit(self.start + by, self.end + by, self.text)


class Refused(Exception):
    """Kubernetes (or YAML) would make the edit wrong; the message says why."""


class NothingToDo(Exception):
    """The pod spec already has what the edit would add."""


def apply_edits(text: str, edits: list[Edit]) -> str:
    """`text` with non-overlapping `edits` applied."""
    out: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _eol(text: str) -> str:
    nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def _starts_line(text: str, node: Node) -> bool:
    """Whether only spaces precede `node` on its line."""
    return node.start - node.col >= 0 and text[node.start - node.col : node.start].strip(" ") == ""


def _after_line(text: str, index: int) -> tuple[int, str | None]:
    """Offset just after the line break ending the line containing `index`, and that break; at the end of
    a text without a final newline: (len(text), None)."""
    nl = text.find("\n", index)
    if nl < 0:
        return len(text), None
    return nl + 1, "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def _line_start_index(text: str, rel_line: int) -> int:
    pos = 0
    for _ in range(rel_line):
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl + 1
    return pos


def _insert_line(text: str, after_index: int, line: str) -> Edit:
    """Insert `line` as a new line after the line containing `after_index`."""
    at, brk = _after_line(text, after_index)
    if brk is None:  # the last line has no final newline: keep it that way
        return Edit(at, at, _eol(text) + line)
    return Edit(at, at, line + brk)


def _is_json(scan: DocumentScan) -> bool:
    return scan.text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def share_pid_edits(scan: DocumentScan, pod: PodScan) -> list[Edit]:
    """Edits setting `shareProcessNamespace: true` on `pod`; raises `Refused` / `NothingToDo`."""
    if pod.host_pid is True:
        raise Refused(HOST_PID_REASON)
    if pod.share_process_namespace is True:
        raise NothingToDo("shareProcessNamespace is already true")
    if pod.shared:
        raise Refused(f"{pod.shared}; edit the anchored pod spec instead")
    text = scan.text
    key, value = pod.spn
    if key is not None and value is not None:
        if isinstance(value, Scalar) and value.is_empty:
            colon = text.find(":", key.end)
            return [Edit(colon + 1, colon + 1, " true")]
        return [Edit(value.start, value.end, "true")]
    m = pod.node
    if m.flow:
        return [_flow_insert(scan, m, SPN_KEY, "true")]
    return [_block_insert(text, pod, f"{SPN_KEY}: true")]


def _one_line_value(k: Scalar, v: Node) -> int | None:
    """End offset of a pair whose key and value sit on one line; None otherwise."""
    if isinstance(v, Scalar):
        if v.is_empty:
            return k.end
        if v.style in ("|", ">"):
            return None
    elif isinstance(v, Map | Seq | Stub) and not v.flow:
        return None
    if v.line == k.line and v.end_line == k.line:
        return v.end
    return None


def _block_insert(text: str, pod: PodScan, line: str) -> Edit:
    m = pod.node
    chosen: tuple[Scalar, int] | None = None
    for k, v in m.pairs:
        if isinstance(k, Scalar) and k.line == k.end_line and _starts_line(text, k):
            end = _one_line_value(k, v)
            if end is not None and text.find("\n", end) >= 0:
                chosen = (k, end)
    first = m.pairs[0][0]
    indent = text[first.start - first.col : first.start] if _starts_line(text, first) else " " * first.col
    if chosen is not None:
        k, end = chosen
        return _insert_line(text, end, text[k.start - k.col : k.start] + line)
    if pod.key is not None and pod.key.line < first.line:
        return _insert_line(text, pod.key.end, indent + line)
    start = first.start - first.col
    return Edit(start, start, indent + line + _eol(text))


def _flow_insert(scan: DocumentScan, m: Map, key: str, value: str) -> Edit:
    text = scan.text
    quote = (
        '"'
        if _is_json(scan) or (m.pairs and isinstance(m.pairs[0][0], Scalar) and m.pairs[0][0].style == '"')
        else ""
    )
    pair = f"{quote}{key}{quote}: {value}"
    if not m.pairs:
        close = text.rfind("}", m.start, m.end)
        return Edit(close, close, pair)
    first = m.pairs[0][0]
    if _starts_line(text, first) and first.line > m.line:
        start = first.start - first.col
        return Edit(start, start, text[start : first.start] + pair + "," + _eol(text))
    return Edit(first.start, first.start, pair + ", ")


def _unique_name(pod: PodScan, scan: DocumentScan) -> str:
    taken = {scalar_text(c.name) for c in pod.containers}
    ephemeral, _ = deref(get(pod.node, "ephemeralContainers", scan.anchors)[1], scan.anchors)
    if isinstance(ephemeral, Seq):
        taken |= {scalar_text(get(item, "name", scan.anchors)[1]) for item in ephemeral.items}
    name, n = "debug", 1
    while name in taken:
        n += 1
        name = f"debug-{n}"
    return name


def _yaml_str(value: str) -> str:
    return (
        value
        if _PLAIN_SAFE.match(value) and value not in ("true", "false", "null", "yes", "no")
        else json.dumps(value)
    )


def sidecar_edits(scan: DocumentScan, pod: PodScan, image: str) -> tuple[list[Edit], str]:
    """Edits adding a debug container (and `shareProcessNamespace: true` unless already there or hostPID), and
    the container's name. Raises `Refused` when there is no containers list to add to, or it is alias text."""
    if pod.shared:
        raise Refused(f"{pod.shared}; edit the anchored pod spec instead")
    _, seq, via = get(pod.node, "containers", scan.anchors)
    if via or isinstance(seq, Alias):
        raise Refused("the containers list comes from a YAML alias; edit the anchored list instead")
    if not isinstance(seq, Seq):
        raise Refused("this pod spec has no containers list to add the debug container to")
    name = _unique_name(pod, scan)
    edits = [_container_insert(scan, pod, seq, name, image)]
    try:
        edits.extend(share_pid_edits(scan, pod))
    except (NothingToDo, Refused):
        pass  # already shared, or hostPID: the sidecar sees the processes anyway
    return _merge(edits), name


def _merge(edits: list[Edit]) -> list[Edit]:
    """Sort, and join insertions at the same offset (LSP clients differ in how they order those)."""
    out: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if out and out[-1].start == out[-1].end == e.start == e.end:
            out[-1] = Edit(e.start, e.end, out[-1].text + e.text)
        else:
            out.append(e)
    return out


def _container_insert(scan: DocumentScan, pod: PodScan, seq: Seq, name: str, image: str) -> Edit:
    text = scan.text
    if seq.flow or pod.node.flow:
        if _is_json(scan):
            item = json.dumps(
                {
                    "name": name,
                    "image": image,
                    "stdin": True,
                    "tty": True,
                    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
                }
            )
        else:
            item = (
                f"{{name: {name}, image: {json.dumps(image)}, stdin: true, tty: true, "
                "securityContext: {capabilities: {add: [SYS_PTRACE]}}}"
            )
        if not seq.flow:  # a block list inside a flow pod spec cannot happen; treat as flow anyway
            raise Refused("unexpected layout of the containers list")
        if not seq.items:
            close = text.rfind("]", seq.start, seq.end)
            return Edit(close, close, item)
        last = seq.items[-1]
        close_line = seq.end_line
        if _starts_line(text, last) and close_line > last.end_line:
            ws = text[last.start - last.col : last.start]
            return Edit(last.end, last.end, "," + _eol(text) + ws + item)
        return Edit(last.end, last.end, ", " + item)
    first = seq.items[0]
    dash = text.rfind("-", 0, first.start)
    line_start = text.rfind("\n", 0, first.start) + 1
    if dash < line_start or text[dash + 1 : first.start].strip(" ") != "":
        dash = seq.start
        line_start = text.rfind("\n", 0, dash) + 1
    dash_col = dash - line_start
    content_col = (
        first.start - line_start if isinstance(first, Map) and first.line == seq.line else dash_col + 2
    )
    content_col = max(content_col, dash_col + 2)
    step = _indent_step(text, pod)
    ind, pad = " " * content_col, " " * step
    lines = [
        " " * dash_col + "-" + " " * (content_col - dash_col - 1) + f"name: {name}",
        f"{ind}image: {_yaml_str(image)}",
        f"{ind}stdin: true",
        f"{ind}tty: true",
        f"{ind}securityContext:",
        f"{ind}{pad}capabilities:",
        f"{ind}{pad}{pad}add: [SYS_PTRACE]",
    ]
    eol = _eol(text)
    end_line = last_line(seq.items[-1], text)
    end_line = seq.items[-1].line if end_line is None else end_line
    at = _line_start_index(text, end_line + 1)
    if at >= len(text) and not text.endswith("\n"):
        return Edit(len(text), len(text), eol + eol.join(lines))
    return Edit(at, at, eol.join(lines) + eol)


def _indent_step(text: str, pod: PodScan) -> int:
    """The document's indentation step, from the pod spec's keys relative to its own key."""
    first = pod.node.pairs[0][0] if pod.node.pairs else None
    if pod.key is not None and first is not None and first.col > pod.key.col and _starts_line(text, pod.key):
        return first.col - pod.key.col
    return 2


# -- a whole stream -----------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Edits over a whole stream, with what happened to each pod spec, in words."""

    edits: list[tuple[int, Edit]]
    """(offset of the document in the stream, edit relative to the document)."""
    changed: list[str]
    refused: list[str]
    unchanged: list[str]

    def absolute(self) -> list[Edit]:
        return [e.shifted(base) for base, e in self.edits]


def describe(pod: PodScan, document: int | None) -> str:
    name = f" {pod.name}" if pod.name else ""
    where = f"document {document}: " if document is not None else ""
    return f"{where}{pod.kind}{name} ({pod.path})"


def plan_share_pid(docs: list[tuple[int, int | None, DocumentScan]], pods: list[tuple[int, PodScan]]) -> Plan:
    """`shareProcessNamespace: true` for each of `pods` (`(index into docs, pod)`); `docs` are
    `(offset, document index, scan)`."""
    plan = Plan([], [], [], [])
    for di, pod in pods:
        base, index, scan = docs[di]
        label = describe(pod, index)
        try:
            edits = share_pid_edits(scan, pod)
        except Refused as exc:
            plan.refused.append(f"{label}: {exc}")
            continue
        except NothingToDo as exc:
            plan.unchanged.append(f"{label}: {exc}")
            continue
        plan.edits.extend((base, e) for e in edits)
        plan.changed.append(label)
    return plan
