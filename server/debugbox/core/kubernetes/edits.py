"""Minimal, formatting-preserving edits to a pod spec: `shareProcessNamespace: true` and a debug sidecar.

Pure: a `DocumentScan` and one of its `PodScan`s in, `Edit`s (character offsets relative to the document) out,
or `Refused` / `NothingToDo` with a reason a user can act on. Nothing outside the edited spots changes.

Every edit is composed here as a `Draft` (the text edits and the `Change`s they are meant to make) and then
passes `verify.verify`, the one check shared by the editor's quick fixes, its commands and the CLI: the edited
document must load and equal the original plus exactly the intended change in exactly the intended pod
spec(s). A draft that fails is refused with the reason, and nothing is edited.

Where `shareProcessNamespace: true` goes (the rules, in order):

1. The key is in the pod spec's own mapping with any other value than true: the value alone is replaced by
   `true` (a trailing comment, the key's spelling, the indentation and an anchor on the value stay). A value
   that is a block list, mapping or block scalar is refused (it is not a boolean; fix it by hand).
2. The key comes only from a merge key (`<<: *defaults`): an explicit key is added to the pod spec's own
   mapping, after every `<<` key (explicit keys win over merged ones; Go's YAML v2 reader, which kubectl
   uses, lets a later merge win, so the key goes after it). The merged anchor is left alone: other pods may
   use it.
3. Block style: one new line at the pod spec's own indentation, directly after the last key of the pod
   spec whose value fits on the key's line (`restartPolicy: Always`, `nodeSelector: {}`). Comments in YAML
   conventionally sit above the key they describe, so inserting *after* a one-line pair never separates a
   comment from its key; inserting after a multi-line value would put the line below its trailing comments.
   A pair on a last line without a final newline is skipped (inserting after it would change that line).
4. Block style without such a key (only lists and maps): the new line goes directly under the pod spec's
   own key line (`spec:`), so comments above the first key stay on top of that key.
5. Flow style and JSON: written inline before the first key (`{shareProcessNamespace: true, ...}`), or as
   its own line when the mapping is pretty-printed one key per line (JSON files), with a trailing comma.

Line endings follow the document (CRLF stays CRLF, a bare CR stays CR); lines are found the way libyaml
finds them (NEL and U+2028/U+2029 break lines too). A document without a final newline keeps having none.
Refused: `hostPID: true` (the API rejects both together), and anything the verification rejects: a pod spec
written once and reused through a YAML alias (editing it would change every place that uses it, unless
every one of them is asked for), an anchored value used elsewhere, a containers list from an alias.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from debugbox.core.kubernetes.pod_spec import DocumentScan, PodScan, deref, get, last_line
from debugbox.core.kubernetes.verify import Change, Unverified, pod_path, verify
from debugbox.core.kubernetes.yamlstream import (
    YAML_BREAK,
    Alias,
    Map,
    Node,
    Scalar,
    Seq,
    Stub,
    scalar_text,
    yaml_line_offset,
    yaml_line_start,
)

SPN_KEY = "shareProcessNamespace"
HOST_PID_REASON = (
    "hostPID: true is set: the pod already uses the host's PID namespace, and Kubernetes rejects "
    "shareProcessNamespace together with hostPID"
)
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/:@+-]*$")
_FIRST_EOL = re.compile(r"\r\n|[\r\n]")


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


@dataclass(slots=True)
class Draft:
    """Text edits of one document and the changes they are meant to make, before verification."""

    edits: list[Edit]
    changes: list[Change] = field(default_factory=list)


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


def verified(scan: DocumentScan, draft: Draft) -> list[Edit]:
    """The draft's edits if they do exactly what the draft says; raises `Refused` with the reason otherwise.
    The one gate every manifest edit passes."""
    edits = _merge(draft.edits)
    for a, b in itertools.pairwise(edits):
        if b.start < a.end:
            raise Refused("the edit would overlap itself; edit this pod spec by hand")
    refusal = _verdict(scan, tuple(edits), tuple(draft.changes))
    if refusal is not None:
        raise Refused(refusal)
    return edits


_VERDICTS: OrderedDict[tuple[str, tuple[Edit, ...], str], str | None] = OrderedDict()
_VERDICTS_MAX = 64
_VERDICTS_LOCK = threading.Lock()


def _verdict(scan: DocumentScan, edits: tuple[Edit, ...], changes: tuple[Change, ...]) -> str | None:
    """Why the edits are refused, or None; remembered per (text, edits, changes): an editor asks for the code
    actions of the same pod spec on every cursor move, and the answer cannot change while the text does not."""
    key = (scan.text, edits, repr(changes))
    with _VERDICTS_LOCK:
        if key in _VERDICTS:
            _VERDICTS.move_to_end(key)
            return _VERDICTS[key]
    try:
        verify(scan, apply_edits(scan.text, list(edits)), changes, [e.start for e in edits])
        refusal = None
    except Unverified as exc:
        refusal = f"debugbox will not edit this: {exc}"
    except (RecursionError, MemoryError, ValueError, TypeError, KeyError, IndexError) as exc:
        # Hostile input the checks did not foresee: an edit that cannot be checked is not made.
        refusal = f"debugbox will not edit this: the edit could not be checked ({type(exc).__name__})"
    with _VERDICTS_LOCK:
        _VERDICTS[key] = refusal
        while len(_VERDICTS) > _VERDICTS_MAX:
            _VERDICTS.popitem(last=False)
    return refusal


def _eol(text: str) -> str:
    m = _FIRST_EOL.search(text)
    return m.group(0) if m else "\n"


def _starts_line(text: str, node: Node) -> bool:
    """Whether only spaces precede `node` on its line."""
    return node.start - node.col >= 0 and text[node.start - node.col : node.start].strip(" ") == ""


def _after_line(text: str, index: int) -> tuple[int, str | None]:
    """Offset just after the line break ending the line containing `index`, and that break; at the end of
    a text without a final newline: (len(text), None)."""
    m = YAML_BREAK.search(text, index)
    if m is None:
        return len(text), None
    return m.end(), m.group(0)


def _insert_line(text: str, after_index: int, line: str) -> Edit:
    """Insert `line` as a new line after the line containing `after_index`."""
    at, brk = _after_line(text, after_index)
    if brk is None:  # the last line has no final newline: keep it that way
        return Edit(at, at, _eol(text) + line)
    if brk not in ("\n", "\r", "\r\n"):
        brk = _eol(text)  # a line ended by NEL/LS/PS: use the document's own line break for the new one
    return Edit(at, at, line + brk)


def _is_json(scan: DocumentScan) -> bool:
    return scan.text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def share_pid_edits(scan: DocumentScan, pod: PodScan) -> list[Edit]:
    """Verified edits setting `shareProcessNamespace: true` on `pod`; raises `Refused` / `NothingToDo`."""
    return verified(scan, share_pid_draft(scan, pod))


def share_pid_draft(scan: DocumentScan, pod: PodScan) -> Draft:
    """The edits meant to set `shareProcessNamespace: true` on `pod`, not yet verified."""
    if pod.host_pid is True:
        raise Refused(HOST_PID_REASON)
    if pod.share_process_namespace is True:
        raise NothingToDo("shareProcessNamespace is already true")
    change = Change(pod_path(pod.path), SPN_KEY, True)
    text = scan.text
    key, value, merged = get(pod.node, SPN_KEY, scan.anchors)
    if key is not None and value is not None and not merged:
        return Draft([_replace_value(text, key, value)], [change])
    m = pod.node
    if m.flow:
        return Draft([_flow_insert(scan, m, SPN_KEY, "true", after_merges=merged)], [change])
    return Draft([_block_insert(text, pod, f"{SPN_KEY}: true", after_merges=merged)], [change])


def _replace_value(text: str, key: Scalar, value: Node) -> Edit:
    if isinstance(value, Scalar) and value.is_empty:
        colon = text.find(":", key.end)
        if colon < 0 or text[key.end : colon].strip(" \t\r\n\x85\u2028\u2029") != "":
            raise Refused(f"{SPN_KEY} is written as an explicit `? key` without a value; set it by hand")
        return Edit(colon + 1, colon + 1, " true")
    if isinstance(value, Scalar) and value.style in ("|", ">"):
        raise Refused(f"{SPN_KEY} holds a block scalar here, not true or false; set it by hand")
    if isinstance(value, Map | Seq | Stub) and not value.flow:
        what = "mapping" if isinstance(value, Map) or (isinstance(value, Stub) and value.is_map) else "list"
        raise Refused(f"{SPN_KEY} holds a {what} here, not true or false; set it by hand")
    # The anchor on the value stays (`&f false` → `&f true`): aliases of it elsewhere keep resolving, and the
    # verification refuses if they would change with it.
    return Edit(value.start, value.end, f"&{value.anchor} true" if value.anchor else "true")


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


def _is_merge(k: Node) -> bool:
    return isinstance(k, Scalar) and k.value == "<<" and k.style == ""


def _own_key(pod: PodScan) -> Scalar | None:
    """The key line of the pod spec, if the pod spec's text is its own (not an alias's anchor elsewhere)."""
    return None if pod.shared else pod.key


def _block_insert(text: str, pod: PodScan, line: str, after_merges: bool = False) -> Edit:
    m = pod.node
    chosen: tuple[Scalar, int] | None = None
    for k, v in m.pairs:
        if isinstance(k, Scalar) and k.line == k.end_line and _starts_line(text, k):
            end = _one_line_value(k, v)
            if end is not None and YAML_BREAK.search(text, end) is not None:
                chosen = (k, end)
    last_merge = max((k.start for k, _ in m.pairs if _is_merge(k)), default=-1)
    if after_merges and (chosen is None or chosen[0].start < last_merge):
        raise Refused(
            f"{SPN_KEY} comes from a merge key (<<) here, and there is no line after it to override it on; "
            "add it by hand"
        )
    first = m.pairs[0][0]
    indent = text[first.start - first.col : first.start] if _starts_line(text, first) else " " * first.col
    if chosen is not None:
        k, end = chosen
        return _insert_line(text, end, text[k.start - k.col : k.start] + line)
    key = _own_key(pod)
    if key is not None and key.line < first.line:
        return _insert_line(text, key.end, indent + line)
    start = first.start - first.col
    return Edit(start, start, indent + line + _eol(text))


def _flow_insert(scan: DocumentScan, m: Map, key: str, value: str, after_merges: bool = False) -> Edit:
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
    if after_merges:  # after every key, so after every `<<` (see rule 2)
        last_value = m.pairs[-1][1]
        if isinstance(last_value, Scalar) and last_value.is_empty:
            raise Refused(f"{SPN_KEY} comes from a merge key (<<) here; add it by hand")
        return Edit(last_value.end, last_value.end, ", " + pair)
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
    """Verified edits adding a debug container (and `shareProcessNamespace: true` unless already there or
    hostPID), and the container's name. Raises `Refused` when there is no containers list to add to, it is
    alias text, or the verification rejects the edit."""
    draft, name = sidecar_draft(scan, pod, image)
    try:
        spn = share_pid_draft(scan, pod)
    except (NothingToDo, Refused):
        return verified(
            scan, draft
        ), name  # already shared, or hostPID: the sidecar sees the processes anyway
    both = Draft(draft.edits + spn.edits, draft.changes + spn.changes)
    try:
        return verified(scan, both), name
    except Refused:
        return verified(scan, draft), name  # the flag cannot be set safely here; the container alone can


def sidecar_draft(scan: DocumentScan, pod: PodScan, image: str) -> tuple[Draft, str]:
    """The edit meant to add the debug container alone, not yet verified, and its name; raises `Refused` when
    there is no containers list to add to or it is alias text."""
    _, seq, via = get(pod.node, "containers", scan.anchors)
    if via or isinstance(seq, Alias):
        raise Refused("the containers list comes from a YAML alias; edit the anchored list instead")
    if not isinstance(seq, Seq):
        raise Refused("this pod spec has no containers list to add the debug container to")
    name = _unique_name(pod, scan)
    container = {
        "name": name,
        "image": image,
        "stdin": True,
        "tty": True,
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    }
    draft = Draft(
        [_container_insert(scan, pod, seq, name, image)],
        [Change(pod_path(pod.path), "containers", container, append=True)],
    )
    return draft, name


#: Text in a pod spec that makes what an edit changes differ from the text it edits (an alias, a merge key), or
#: makes the loaded value more than the text (a tag): where any is present, only the verification can tell.
_SHARING_MARKS = ("*", "<<", "!", "&")


def verification_may_refuse(scan: DocumentScan, pod: PodScan) -> bool:
    """Whether `verify` could refuse an edit to `pod` that its draft did not: YAML sharing near the pod spec
    (an anchor on it or around it, or an alias, merge key, anchor or tag in its text). Where there is none,
    the edited text is all that changes, so an editor can be offered the edit before it is checked (it is still
    checked before it is given). Errs towards True: a `*` or `!` in any scalar of the pod spec counts."""
    node = pod.node
    if any(a.start <= node.end and node.start <= a.end for a in scan.anchors.values()):
        return True
    text = scan.text[node.start : node.end]
    return any(mark in text for mark in _SHARING_MARKS)


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
    line_start = yaml_line_start(text, first.start)
    if dash < line_start or text[dash + 1 : first.start].strip(" ") != "":
        dash = seq.start
        line_start = yaml_line_start(text, dash)
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
    at = yaml_line_offset(text, end_line + 1)
    if at >= len(text) and not YAML_BREAK.search(text[-2:]):
        return Edit(len(text), len(text), eol + eol.join(lines))
    return Edit(at, at, eol.join(lines) + eol)


def _indent_step(text: str, pod: PodScan) -> int:
    """The document's indentation step, from the pod spec's keys relative to its own key."""
    first = pod.node.pairs[0][0] if pod.node.pairs else None
    key = _own_key(pod)
    if key is not None and first is not None and first.col > key.col and _starts_line(text, key):
        return first.col - key.col
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
    `(offset, document index, scan)`.

    Pod specs that are one text (an anchored pod spec and its aliases) get one edit when all of them are
    asked for. All edits of a document are verified together; when that fails, each pod spec alone, and the
    ones that pass are kept as long as they still pass together."""
    plan = Plan([], [], [], [])
    by_doc: dict[int, list[tuple[list[PodScan], Draft]]] = defaultdict(list)
    by_text: dict[tuple[int, int], tuple[list[PodScan], Draft]] = {}
    for di, pod in pods:
        _, index, scan = docs[di]
        label = describe(pod, index)
        same = by_text.get((di, id(pod.node)))
        if same is not None:  # the same pod spec text as one already drafted: one edit for both
            same[0].append(pod)
            same[1].changes.append(Change(pod_path(pod.path), SPN_KEY, True))
            continue
        try:
            draft = share_pid_draft(scan, pod)
        except Refused as exc:
            plan.refused.append(f"{label}: {exc}")
            continue
        except NothingToDo as exc:
            plan.unchanged.append(f"{label}: {exc}")
            continue
        group = ([pod], draft)
        by_text[(di, id(pod.node))] = group
        by_doc[di].append(group)
    for di, groups in by_doc.items():
        base, index, scan = docs[di]
        accepted, edits = _verify_groups(scan, groups, index, plan.refused)
        for group_pods, _ in accepted:
            plan.changed.extend(describe(p, index) for p in group_pods)
        plan.edits.extend((base, e) for e in edits)
    return plan


def _combined(groups: Sequence[tuple[list[PodScan], Draft]]) -> Draft:
    return Draft([e for _, d in groups for e in d.edits], [c for _, d in groups for c in d.changes])


def _verify_groups(
    scan: DocumentScan, groups: list[tuple[list[PodScan], Draft]], index: int | None, refused: list[str]
) -> tuple[list[tuple[list[PodScan], Draft]], list[Edit]]:
    """The groups whose edits pass verification together, and those edits; the others go to `refused`."""
    try:
        return groups, verified(scan, _combined(groups))
    except Refused:
        pass
    accepted: list[tuple[list[PodScan], Draft]] = []
    edits: list[Edit] = []
    for group in groups:
        try:
            edits = verified(scan, _combined([*accepted, group]))
        except Refused as exc:
            refused.extend(f"{describe(p, index)}: {exc}" for p in group[0])
            continue
        accepted.append(group)
    return accepted, edits
