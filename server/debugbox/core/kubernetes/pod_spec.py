"""Where the pod specs are in a manifest stream, and what is in them: the model other features build on.

`scan_document(chunk_text)` turns one YAML document into a `DocumentScan` (positions relative to the
document, so the result can be cached by text and re-used wherever the document moves in the file).
`find_pod_specs(text)` does that for a whole stream and returns `PodSpec`s with absolute positions.

Which documents are looked at: only ones mentioning both `apiVersion` and `kind`; everything else is not a
manifest and stays silent. A manifest whose top-level `kind:` is not one carrying a pod template only gets a
syntax check (at C speed, nothing built). Pod specs are found at:

    Pod                      spec
    Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
                             spec.template.spec
    CronJob                  spec.jobTemplate.spec.template.spec
    PodTemplate              template.spec
    List (and *List kinds)   items[i].<any of the above>

Lookups follow YAML semantics as PyYAML and Kubernetes read them: for a duplicate key the last one wins;
merge keys (`<<: *anchor`) and aliases are followed for reading (one node at a time, never expanded). A pod
spec reached through an alias or a merge is reported but marked `shared`: editing the anchored text would
change every user of it, so edits are refused there.

Over 400 lines because the scan (relative positions, cached per document) and its conversion to absolute LSP
positions (`Positions`, `public_pod`) are one model; splitting them would split every change to it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types as lsp

from debugbox.core.documents import LINE_START, looks_like_manifest
from debugbox.core.kubernetes.yamlstream import (
    ALL,
    LSP_BREAK,
    YAML_BREAK,
    Alias,
    Map,
    Node,
    ParseError,
    Scalar,
    Schema,
    Seq,
    Stub,
    bool_value,
    check_syntax,
    count_yaml_breaks,
    is_null,
    only_newlines,
    parse_tree,
    scalar_text,
    split_documents,
    yaml_line_offset,
)

#: kind → the keys leading from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
}

_TOP_API = re.compile(rf"""{LINE_START}["']?apiVersion["']?[ \t]*:""")
_KIND_LINE = r"""["']?kind["']?[ \t]*:[ \t]*([^\s#]*)[ \t]*(?:#[^\r\n]*)?(?=[\r\n]|$)"""
_TOP_KIND = re.compile(LINE_START + _KIND_LINE)
#: The same for a text whose only line break is `\n`: `re.M`'s `^` instead of the look-behind, three times faster.
_TOP_KIND_NL = re.compile("^\ufeff?" + _KIND_LINE, re.M)
#: A kind written plainly or quoted (`Deployment`, `"Deployment"`): one the text alone can be trusted with.
_PLAIN_KIND = re.compile(r"""(["']?)([A-Za-z][A-Za-z0-9]*)\1""")
_JSON_API = re.compile(r'"apiVersion"\s*:')
_JSON_KIND = re.compile(r'"kind"\s*:')
_MAX_LIST_DEPTH = 4


def _schema() -> Schema:
    """What `scan_document` builds of a document: the paths to pod specs (for every kind at once: the kind may
    come after the spec), metadata, selectors, and in pod specs every key plus the containers' name, image
    and restartPolicy. Everything else (env, volumes, probes, ...) is skipped at event speed: most of a
    manifest's text never becomes Python objects."""
    container: dict[str, Schema] = {"name": ALL, "image": ALL, "restartPolicy": ALL, "<<": ALL}
    meta: dict[str, Schema] = {"name": ALL, "namespace": ALL, "labels": ALL}
    spec: dict[str, Schema] = {
        "containers": [container],
        "initContainers": [container],
        "ephemeralContainers": [container],
        "shareProcessNamespace": ALL,
        "hostPID": ALL,
        "selector": ALL,
        "<<": ALL,
    }
    template: dict[str, Schema] = {"metadata": meta, "spec": spec, "<<": ALL}
    spec["template"] = template
    spec["jobTemplate"] = {"spec": spec, "<<": ALL}
    root: dict[str, Schema] = {
        "apiVersion": ALL,
        "kind": ALL,
        "metadata": meta,
        "spec": spec,
        "template": template,
        "<<": ALL,
    }
    root["items"] = [root]
    return root


SCHEMA = _schema()
_MAX_MERGE_DEPTH = 8
_MAX_CONVERT_NODES = 10_000


def get(node: Node | None, key: str, anchors: dict[str, Node]) -> tuple[Scalar | None, Node | None, bool]:
    """`(key node, value node, reached through an alias or merge)` of `key` in a mapping, or Nones."""
    return _get(node, key, anchors, 0)


_Found = tuple[Scalar | None, Node | None, bool]


def _get(node: Node | None, key: str, anchors: dict[str, Node], depth: int) -> _Found:
    via = False
    if isinstance(node, Alias):
        node, via = anchors.get(node.name), True
    if not isinstance(node, Map):
        return None, None, False
    found: _Found = (None, None, False)
    merges: list[Node] = []
    for k, v in node.pairs:
        if isinstance(k, Scalar):
            if k.value == key:
                found = (k, v, via)  # the last duplicate wins, as in PyYAML and kubectl
            elif k.value == "<<" and k.style == "":
                merges.append(v)
    if found[0] is not None or depth >= _MAX_MERGE_DEPTH:
        return found
    for merge in merges:
        source: Node | None = anchors.get(merge.name) if isinstance(merge, Alias) else merge
        for item in source.items if isinstance(source, Seq) else [source]:
            k2, v2, _ = _get(item, key, anchors, depth + 1)
            if k2 is not None:
                return k2, v2, True
    return found


def deref(node: Node | None, anchors: dict[str, Node]) -> tuple[Node | None, bool]:
    if isinstance(node, Alias):
        return anchors.get(node.name), True
    return node, False


def to_python(node: Node | None, anchors: dict[str, Node], budget: list[int] | None = None) -> Any:
    """Plain data from a subtree: scalars as their source strings (nulls as None); aliases followed within
    a node budget, so a hostile document cannot make this expand."""
    budget = budget if budget is not None else [_MAX_CONVERT_NODES]
    budget[0] -= 1
    if budget[0] < 0 or node is None:
        return None
    if isinstance(node, Alias):
        return to_python(anchors.get(node.name), anchors, budget)
    if isinstance(node, Scalar):
        return None if is_null(node) else node.value
    if isinstance(node, Seq):
        return [to_python(item, anchors, budget) for item in node.items]
    if isinstance(node, Map):
        out: dict[str, Any] = {}
        for k, v in node.pairs:
            if isinstance(k, Scalar):
                out[k.value] = to_python(v, anchors, budget)
        return out
    return None


def last_line(node: Node | None, text: str) -> int | None:
    """The last line holding `node`'s text (not trailing blank lines or comments); None for an empty value."""
    while node is not None:
        if isinstance(node, Scalar):
            if node.is_empty:
                return None
            if node.style in ("|", ">"):
                end = node.end
                while end > node.start and text[end - 1] in " \t\r\n":
                    end -= 1
                return node.line + count_yaml_breaks(text, node.start, end)
            return node.end_line
        if isinstance(node, Stub):
            return node.last if not node.flow else node.end_line
        if isinstance(node, Map | Seq) and not node.flow:
            if isinstance(node, Map):
                if not node.pairs:
                    return node.line
                k, v = node.pairs[-1]
                last = last_line(v, text)
                return last if last is not None else last_line(k, text)
            if not node.items:
                return node.line
            node = node.items[-1]
            continue
        return node.end_line  # flow collections and aliases end on the line of their last character
    return None


@dataclass(slots=True)
class ContainerScan:
    """One container entry, positions relative to its document."""

    item: Node
    """The list item (a mapping, or an alias of one)."""
    mapping: Map | None
    name_key: Scalar | None
    image_key: Scalar | None
    name: Node | None
    image: Node | None
    init: bool
    sidecar: bool
    name_via: bool = False
    """The name was found through an alias or merge key (its node is elsewhere in the text)."""
    image_via: bool = False


@dataclass(slots=True)
class PodScan:
    """One pod spec in a document, positions relative to the document."""

    kind: str
    name: str | None
    namespace: str | None
    path: str
    key: Scalar | None
    """The key whose value is the pod spec (`spec`), for its line."""
    node: Map
    shared: str | None
    """Why edits are refused because the pod spec is (partly) YAML-alias text, else None."""
    containers: list[ContainerScan]
    share_process_namespace: bool | None
    host_pid: bool | None
    spn: tuple[Scalar | None, Node | None]
    selector: Any
    template_labels: dict[str, Any]
    first_line: int
    last_line: int


@dataclass(slots=True)
class DocumentScan:
    """Everything debugbox needs from one YAML document; cached by the document's text."""

    text: str
    manifest: bool = False
    """Top level has `apiVersion` and `kind` (or clearly would have, for a document that does not parse)."""
    kind: str | None = None
    template: bool = False
    """Contains Helm/Go template actions (`{{ }}`): not YAML until rendered."""
    error: ParseError | None = None
    pods: list[PodScan] = field(default_factory=list)
    anchors: dict[str, Node] = field(default_factory=dict)
    ascii: bool = True
    deferred: bool = False
    """Only syntax-checked so far (`scan_document(lazy=True)`): `ensure_full` builds `pods` when needed."""
    line_starts: tuple[list[int], list[int]] | None = None
    """Where LSP lines and libyaml lines start, for a text with other breaks than `\n` (`Positions`)."""


# An `image:` key anywhere (block, flow or JSON), and the rest of its line.
_IMAGE_KEY = re.compile(r"""(?:^|[\s{,])["']?image["']?[ \t]*:(?:[ \t]+|$)(.*)$""", re.M)
_PLAIN_IMAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./:@+-]*")
_QUOTED_IMAGE = re.compile(r""""([^"\\]*)"|'([^']*)'""")
_AFTER_PLAIN = re.compile(r"(?:[ \t]+#.*)?[ \t\r]*$")
_AFTER_QUOTED = re.compile(r"(?:[ \t]*#.*)?[ \t\r]*$|[ \t]*[,}\]]")


def may_have_shellless_image(text: str) -> bool:
    """Whether any container image in `text` could lack a shell, judged from the text alone.

    Errs on the side of True: every `image:` key is looked at, wherever it is, and any value that is not a
    plain one-line image reference (aliases, block scalars, templates, escapes) counts as "could be". A
    document for which this is False cannot get DBX200, so diagnostics need only its syntax check."""
    from debugbox.core.images import classify_image  # the image table; imported here to keep startup light

    for m in _IMAGE_KEY.finditer(text):
        rest = m.group(1)
        q = _QUOTED_IMAGE.match(rest)
        p = None if q else _PLAIN_IMAGE.match(rest)
        if q and _AFTER_QUOTED.match(rest, q.end()):
            value = q.group(1) if q.group(1) is not None else q.group(2)
        elif p and _AFTER_PLAIN.match(rest, p.end()):
            value = p.group(0)
        else:
            return True  # not a simple one-line value: let the parser decide
        if classify_image(value).has_shell is False:
            return True
    return False


def scan_document(text: str, lazy: bool = False) -> DocumentScan:
    """Analyse one document's text (a chunk from `split_documents`).

    `lazy`: when no image in the text can lack a shell, only check the syntax now (libyaml at C speed, no
    Python objects) and leave finding the pod specs to `ensure_full`, at the first request that needs them.
    Opening a large stream then costs little more than parsing it once in C."""
    scan = DocumentScan(text, template="{{" in text, ascii=text.isascii())
    if not looks_like_manifest(text):
        return scan  # not a manifest: never parsed, never reported
    json_doc = text.lstrip("\ufeff \t\r\n").startswith("{")
    # Once: each scan walks the whole document (the line-start lookbehind).
    top_kinds = (_TOP_KIND_NL if only_newlines(text) else _TOP_KIND).findall(text)
    clearly = bool(top_kinds and _TOP_API.search(text)) or (
        json_doc and bool(_JSON_API.search(text) and _JSON_KIND.search(text))
    )
    kinds = [m.group(2) for k in top_kinds if (m := _PLAIN_KIND.fullmatch(k))]
    if (
        clearly
        and len(kinds) == 1
        and len(top_kinds) == 1
        and kinds[0] not in POD_SPEC_PATHS
        and not kinds[0].endswith("List")
    ):
        # A manifest that cannot hold a pod spec: only whether it parses matters. A kind the text alone cannot
        # be sure of (a tag, an alias, an escape) gets the full parse instead.
        scan.manifest, scan.kind = True, kinds[0]
        scan.error = check_syntax(text)
        return scan
    if lazy and not may_have_shellless_image(text):
        scan.manifest, scan.error = clearly, check_syntax(text)
        scan.deferred = scan.error is None
        return scan
    _build_pods(scan, clearly)
    return scan


def ensure_full(scan: DocumentScan) -> DocumentScan:
    """Find the pod specs of a document that `scan_document(lazy=True)` only syntax-checked."""
    if scan.deferred:
        # Built aside and then published field by field: scans are shared between analyses (and threads);
        # two threads racing here compute the same result, and neither sees a half-filled list.
        full = DocumentScan(scan.text, template=scan.template, ascii=scan.ascii)
        _build_pods(full, scan.manifest)
        scan.anchors, scan.kind, scan.error, scan.manifest = (
            full.anchors,
            full.kind,
            full.error,
            full.manifest,
        )
        scan.pods = full.pods
        scan.deferred = False
    return scan


def _build_pods(scan: DocumentScan, clearly: bool) -> None:
    text = scan.text
    try:
        tree = parse_tree(text, SCHEMA)
    except ParseError as exc:
        scan.manifest, scan.error = clearly, exc
        return
    root, scan.anchors = tree.root, tree.anchors
    kind = scalar_text(get(root, "kind", scan.anchors)[1])
    api = scalar_text(get(root, "apiVersion", scan.anchors)[1])
    if kind is None or api is None:
        scan.manifest = False
        return
    scan.manifest, scan.kind = True, kind
    _collect(root, "", scan, 0)


def _collect(obj: Node | None, prefix: str, scan: DocumentScan, depth: int) -> None:
    anchors = scan.anchors
    kind = scalar_text(get(obj, "kind", anchors)[1])
    if kind is None:
        return
    path = POD_SPEC_PATHS.get(kind)
    if path is None:
        if kind.endswith("List") and depth < _MAX_LIST_DEPTH:
            items, _ = deref(get(obj, "items", anchors)[1], anchors)
            if isinstance(items, Seq):
                for i, item in enumerate(items.items):
                    _collect(deref(item, anchors)[0], f"{prefix}items[{i}].", scan, depth + 1)
        return
    node: Node | None = obj
    parents: list[Node | None] = []
    key: Scalar | None = None
    shared = False
    for step in path:
        parents.append(node)
        key, node, via = get(node, step, anchors)
        if isinstance(node, Alias):
            node, via = anchors.get(node.name), True
        shared = shared or via
    if not isinstance(node, Map):
        return
    metadata = get(obj, "metadata", anchors)[1]
    template = parents[-1]  # the object (Pod) or the template holding `metadata` and `spec`
    selector_holder = parents[-2] if len(parents) >= 2 else None
    labels = to_python(get(get(template, "metadata", anchors)[1], "labels", anchors)[1], anchors)
    selector = to_python(get(selector_holder, "selector", anchors)[1], anchors) if len(path) > 1 else None
    if kind == "PodTemplate":
        selector = None
    spn_key, spn_value, _ = get(node, "shareProcessNamespace", anchors)
    host_value = get(node, "hostPID", anchors)[1]
    first = key.line if key is not None else node.line
    last = last_line(node, scan.text)
    scan.pods.append(
        PodScan(
            kind=kind,
            name=scalar_text(get(metadata, "name", anchors)[1]),
            namespace=scalar_text(get(metadata, "namespace", anchors)[1]),
            path=prefix + ".".join(path),
            key=key,
            node=node,
            shared="the pod spec comes from a YAML alias or merge key" if shared else None,
            containers=_containers(node, anchors),
            share_process_namespace=bool_value(spn_value),
            host_pid=bool_value(host_value),
            spn=(spn_key, spn_value),
            selector=selector,
            template_labels=labels if isinstance(labels, dict) else {},
            first_line=first,
            last_line=max(first, last if last is not None else first),
        )
    )


def _containers(pod: Map, anchors: dict[str, Node]) -> list[ContainerScan]:
    out: list[ContainerScan] = []
    for field_name, init in (("initContainers", True), ("containers", False)):
        seq, _ = deref(get(pod, field_name, anchors)[1], anchors)
        if not isinstance(seq, Seq):
            continue
        for item in seq.items:
            mapping, item_via = deref(item, anchors)
            if not isinstance(mapping, Map):
                continue
            name_key, name, name_via = get(mapping, "name", anchors)
            image_key, image, image_via = get(mapping, "image", anchors)
            restart = scalar_text(get(mapping, "restartPolicy", anchors)[1])
            out.append(
                ContainerScan(
                    item=item,
                    mapping=mapping,
                    name_key=name_key,
                    image_key=image_key,
                    name=name,
                    image=image,
                    init=init,
                    sidecar=init and restart == "Always",
                    name_via=item_via or name_via,
                    image_via=item_via or image_via,
                )
            )
    out.sort(key=lambda c: c.item.start)
    return out


# -- absolute positions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    name: str | None
    image: str | None
    line: int
    """0-based line of the container's entry."""
    init: bool
    sidecar: bool
    """A native sidecar: an init container with `restartPolicy: Always`."""
    name_range: lsp.Range | None
    image_range: lsp.Range | None


@dataclass(frozen=True)
class PodSpec:
    document: int
    """0-based index of the YAML document in the stream."""
    kind: str
    name: str | None
    namespace: str | None
    path: str
    """Dotted, `[i]` for list items: `spec.template.spec`, `items[0].spec`."""
    line: int
    """0-based line of the key holding the pod spec (`spec:`)."""
    end_line: int
    """0-based last line with pod spec text."""
    share_process_namespace: bool | None
    host_pid: bool | None
    containers: tuple[Container, ...]
    selector: Any
    """The workload's `spec.selector` as written (matchLabels / matchExpressions, or a plain map for a
    ReplicationController); None for Pods and PodTemplates."""
    template_labels: dict[str, Any]
    """`metadata.labels` of the pod template (of the Pod itself for kind Pod)."""
    shared: str | None


class Positions:
    """Turns a document's relative node positions into absolute LSP positions (UTF-16 columns).

    Lines are counted as LSP counts them (`\n`, `\r\n`, `\r`; LSP 3.17, "Text Documents"), from character
    offsets. libyaml's own line numbers (`Node.line`, `ParseError.line`) also break at NEL, U+2028 and
    U+2029, so they go through `line_of` / `lsp_line` before they meet an editor's line."""

    def __init__(self, scan: DocumentScan, line: int, start: int) -> None:
        self.scan, self.line, self.start = scan, line, start
        text = scan.text
        # Only `\n` breaks: libyaml's lines are LSP's lines (the common case, kept cheap).
        self._simple = "\r" not in text and (scan.ascii or not any(c in text for c in "\x85\u2028\u2029"))

    def _starts(self) -> tuple[list[int], list[int]]:
        """Offsets where LSP lines and libyaml lines start (built once per document, kept on its scan)."""
        tables = self.scan.line_starts
        if tables is None:
            text = self.scan.text
            tables = (
                [0, *(m.end() for m in LSP_BREAK.finditer(text))],
                [0, *(m.end() for m in YAML_BREAK.finditer(text))],
            )
            self.scan.line_starts = tables  # the same for every thread that computes it
        return tables

    def position(self, index: int) -> lsp.Position:
        """LSP position of a character offset relative to the document."""
        text = self.scan.text
        if self._simple:
            line_start = text.rfind("\n", 0, index) + 1
            rel_line = text.count("\n", 0, line_start)
        else:
            starts = self._starts()[0]
            rel_line = bisect.bisect_right(starts, index) - 1
            line_start = starts[rel_line]
        return lsp.Position(self.line + rel_line, _utf16(text, line_start, index, self.scan.ascii))

    def line_of(self, yaml_line: int, col: int = 0) -> lsp.Position:
        """Absolute LSP position of a libyaml (line, column) relative to the document."""
        if self._simple:
            return self.position(yaml_line_offset(self.scan.text, yaml_line) + col)
        starts = self._starts()[1]
        return self.position(starts[min(yaml_line, len(starts) - 1)] + col)

    def lsp_line(self, yaml_line: int) -> int:
        """Absolute LSP line of a libyaml line relative to the document."""
        return self.line + yaml_line if self._simple else self.line_of(yaml_line).line

    def node_range(self, node: Node) -> lsp.Range:
        start = self.position(node.start)
        if isinstance(node, Scalar) and node.is_empty:
            return lsp.Range(start, start)
        return lsp.Range(start, self.position(node.end))


def _utf16(text: str, line_start: int, index: int, ascii_: bool) -> int:
    if ascii_:
        return index - line_start
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text[line_start:index])


def public_pod(pod: PodScan, scan: DocumentScan, document: int, pos: Positions) -> PodSpec:
    containers = []
    for c in pod.containers:
        start = c.mapping.line if c.mapping is not None and c.mapping is c.item else c.item.line
        containers.append(
            Container(
                name=scalar_text(c.name),
                image=scalar_text(c.image),
                line=pos.lsp_line(start),
                init=c.init,
                sidecar=c.sidecar,
                name_range=_own_range(pos, c, c.name, c.name_via),
                image_range=_own_range(pos, c, c.image, c.image_via),
            )
        )
    return PodSpec(
        document=document,
        kind=pod.kind,
        name=pod.name,
        namespace=pod.namespace,
        path=pod.path,
        line=pos.lsp_line(pod.first_line),
        end_line=pos.lsp_line(pod.last_line),
        share_process_namespace=pod.share_process_namespace,
        host_pid=pod.host_pid,
        containers=tuple(containers),
        selector=pod.selector,
        template_labels=pod.template_labels,
        shared=pod.shared,
    )


def _own_range(pos: Positions, c: ContainerScan, node: Node | None, via: bool) -> lsp.Range | None:
    """Where a container's name/image is written for this container: the value itself, or the alias standing
    for the whole container; None when it only comes from a merged anchor (written for another container)."""
    if node is None:
        return None
    if not via:
        return pos.node_range(node)
    if isinstance(c.item, Alias):
        return pos.node_range(c.item)
    return None


def find_pod_specs(text: str) -> list[PodSpec]:
    """Every pod spec in a manifest stream, with absolute positions (no caching; see `analysis` for that)."""
    out: list[PodSpec] = []
    for chunk in split_documents(text):
        if chunk.index is None:
            continue
        scan = scan_document(chunk.text)
        pos = Positions(scan, chunk.line, chunk.start)
        out.extend(public_pod(p, scan, chunk.index, pos) for p in scan.pods)
    return out
