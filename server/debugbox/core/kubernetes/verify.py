"""The one check every manifest edit passes before anyone sees it: the edited document still loads, and means
exactly the original plus the intended change in exactly the intended pod spec(s).

An edit is composed from the positioned tree (`edits.py`), which sees YAML through libyaml's events: anchors,
aliases and merge keys make the text that is edited and the values that change two different things (one
anchored line can be read by several pods). So before an edit is offered or written, `verify`:

1. applies it to the document's text in memory;
2. loads the original and the edited text with an independent judge, PyYAML's safe loader (libyaml), which
   resolves aliases and merge keys the way Kubernetes' YAML reader does;
3. applies the intended `Change`s to the original's loaded tree (copying only the path to each changed pod
   spec, so a pod spec reused through an alias stays as it was unless it is also one of the intended ones);
4. compares that with the edited tree, and reads the edited text once more with the product's own scanner
   (`pod_spec.scan_document`), which must find the same pod specs with the same facts plus the change.

Any difference is refused with one sentence naming what else would change (and the YAML anchor that makes it
change); nothing is edited then. The work is bounded: the texts are already bounded by the file readers, the
comparison visits each pair of shared objects once, and a document too deep for the loader is refused.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from debugbox.core import safe_yaml
from debugbox.core.kubernetes.pod_spec import DocumentScan, PodScan, ensure_full, scan_document
from debugbox.core.kubernetes.yamlstream import (
    Alias,
    Map,
    Node,
    Seq,
    parser_input,
    scalar_text,
    split_documents,
)

#: Pairs of objects compared before the comparison gives up (a document past this is refused, not hung on).
MAX_COMPARED = 2_000_000
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

PathKey = str | int
Path = tuple[PathKey, ...]


class Unverified(Exception):
    """The edit does not do exactly what it should; the message says what it would do instead."""


@dataclass(frozen=True, slots=True)
class Change:
    """One intended change, in loaded terms: set `key` of the pod spec at `pod` to `value`, or append `value`
    to the list at `key` (`append`)."""

    pod: Path
    key: str
    value: Any
    append: bool = False


def pod_path(path: str) -> Path:
    """`items[1].spec.template.spec` → `("items", 1, "spec", "template", "spec")`."""
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(path))


@dataclass(frozen=True, slots=True)
class _Tagged:
    """A value under a tag the safe loader does not know (`!Ref x`): compared by tag and value."""

    tag: str
    value: Any


class _Judge(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (C speed when built with libyaml), keeping unknown tags instead of failing."""


def _undefined(loader: Any, node: yaml.Node) -> Iterator[Any]:
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        yield _Tagged(str(node.tag), mapping)
        mapping.update(loader.construct_mapping(node))
    elif isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        yield _Tagged(str(node.tag), items)
        items.extend(loader.construct_sequence(node))
    else:
        yield _Tagged(str(node.tag), loader.construct_scalar(node))


_Judge.add_constructor(None, _undefined)


def _load(text: str) -> list[Any]:
    """Every document of `text`, as the judge reads it (after the same input fix-ups as the product's parser)."""
    source, _ = parser_input(text)
    try:
        return list(yaml.load_all(source, Loader=_Judge))  # a safe loader subclass
    except RecursionError:
        raise Unverified("the document is nested too deeply to check an edit to it") from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise Unverified(f"it would not load as YAML ({safe_yaml.describe_error(exc)})") from None


#: The independent judge's reading of a YAML text, for the other edit checks (`core/compose/edits.py`).
judge_load = _load


@functools.lru_cache(maxsize=4)
def _load_original(text: str) -> list[Any]:
    # Code actions ask for the same document again and again; the trees are never mutated (see `_expected`).
    return _load(text)


def _expected(original: Any, changes: Sequence[Change]) -> Any:
    """The original tree with `changes` applied, copying only the containers on the way to each change:
    everything else, aliases included, stays the original objects."""
    fresh: set[int] = set()

    def own(container: Any) -> Any:
        dup = copy.copy(container)
        fresh.add(id(dup))
        return dup

    root = own(original)
    for change in changes:
        node = root
        for step in (*change.pod, change.key) if change.append else change.pod:
            child = node[step]
            if id(child) not in fresh:
                child = own(child)
                node[step] = child
            node = child
        if change.append:
            node.append(change.value)
        else:
            node[change.key] = change.value
    return root


def _same_scalar(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False  # True == 1 in Python; in YAML they are different values
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def first_difference(a: Any, b: Any) -> Path | None:
    """The path of the first place where two loaded trees differ, or None. Iterative, and each pair of
    objects is compared once, so trees sharing objects through aliases cost their text, not their expansion."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, Any, Path]] = [(a, b, ())]
    budget = MAX_COMPARED
    while stack:
        x, y, path = stack.pop()
        budget -= 1
        if budget < 0:
            raise Unverified("the document is too large to check an edit to it")
        if isinstance(x, dict | list | _Tagged):
            pair = (id(x), id(y))
            if pair in seen:
                continue
            seen.add(pair)
        if isinstance(x, _Tagged):
            if not isinstance(y, _Tagged) or x.tag != y.tag:
                return path
            stack.append((x.value, y.value, path))
        elif isinstance(x, dict):
            if not isinstance(y, dict) or x.keys() != y.keys():  # the order of keys means nothing in YAML
                if isinstance(y, dict):
                    extra = [k for k in (*x, *y) if (k in x) != (k in y)]
                    if extra and isinstance(extra[0], str | int):
                        return (*path, extra[0])
                return path
            stack.extend((x[k], y[k], (*path, k)) for k in reversed(list(x)))
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return path
            stack.extend((x[i], y[i], (*path, i)) for i in reversed(range(len(x))))
        elif not _same_scalar(x, y):
            return path
    return None


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def _covering_anchors(scan: DocumentScan, offsets: Sequence[int]) -> list[str]:
    """Anchors whose text holds one of `offsets` and that are used through an alias in the document."""
    used = set(_alias_names(scan))
    return sorted(
        name
        for name, node in scan.anchors.items()
        if name in used and any(node.start <= o <= node.end for o in offsets)
    )


def _alias_names(scan: DocumentScan) -> Iterator[str]:
    stack: list[Node] = [p.node for p in scan.pods]
    stack.extend(scan.anchors.values())
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Alias):
            yield node.name
        elif isinstance(node, Map):
            for k, v in node.pairs:
                stack.extend((k, v))
        elif isinstance(node, Seq):
            stack.extend(node.items)
    # Aliases in parts the scanner skipped (it builds only what it needs) are found in the text.
    yield from (m.group(1) for m in re.finditer(r"(?<![\w*&])\*([^\s,\[\]{}]+)", scan.text))


def _what(path: Path, pods: Sequence[PodScan]) -> str:
    for pod in pods:
        where = pod_path(pod.path)
        if path[: len(where)] == where:
            name = f" {pod.name}" if pod.name else ""
            return f"{pod.kind}{name} ({_dotted(path)})"
    return _dotted(path)


def _facts(pod: PodScan) -> tuple[Any, ...]:
    return (
        pod.path,
        pod.kind,
        pod.name,
        pod.namespace,
        pod.share_process_namespace,
        pod.host_pid,
        _containers((scalar_text(c.name), scalar_text(c.image), c.init) for c in pod.containers),
    )


def _containers(items: Iterable[tuple[str | None, str | None, bool]]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=repr))  # the scanner lists them in text order; init ones may come later


def _expected_facts(pod: PodScan, changes: Sequence[Change]) -> tuple[Any, ...]:
    path, kind, name, ns, spn, host, containers = _facts(pod)
    for change in changes:
        if change.pod != pod_path(pod.path):
            continue
        if change.key == "shareProcessNamespace" and not change.append:
            spn = change.value
        elif change.key == "containers" and change.append:
            value = change.value
            containers = _containers([*containers, (value.get("name"), value.get("image"), False)])
    return (path, kind, name, ns, spn, host, containers)


def verify(scan: DocumentScan, new_text: str, changes: Sequence[Change], edited: Sequence[int]) -> None:
    """Raise `Unverified` unless `new_text` (the document `scan` after an edit touching `edited` offsets) is
    the original plus exactly `changes`."""
    try:
        old_docs = _load_original(scan.text)
    except Unverified as exc:
        raise Unverified(str(exc).replace("it would not load", "the document does not load")) from None
    new_docs = _load(new_text)
    old_chunks = [c.index for c in split_documents(scan.text)]
    new_chunks = [c.index for c in split_documents(new_text)]
    if len(old_docs) != len(new_docs) or len(old_docs) != 1 or len(old_chunks) != len(new_chunks):
        raise Unverified("it would change where the YAML documents of the file begin and end")
    try:
        expected = _expected(old_docs[0], changes)
    except (KeyError, IndexError, TypeError, AttributeError):  # e.g. a pod spec under a tag unknown to YAML
        raise Unverified("the loaded document has no plain pod spec where debugbox found one") from None
    diff = first_difference(expected, new_docs[0])
    if diff is not None:
        intended = [(*c.pod, c.key) for c in changes]
        pods = ensure_full(scan).pods
        if any(diff[: len(p)] == p for p in intended):
            raise Unverified(f"it would not give {_what(diff, pods)} the intended value")
        anchors = _covering_anchors(scan, edited)
        via = (
            f": the text to edit is anchored as &{anchors[0]} and reused through the alias *{anchors[0]}"
            if anchors
            else ""
        )
        raise Unverified(f"it would also change {_what(diff, pods)}{via}")
    # The product's own reader must agree: same pod specs, same facts, plus the change.
    after = scan_document(new_text)
    if after.error is not None:
        raise Unverified(f"debugbox could not read the edited document ({after.error.message})")
    before = ensure_full(scan).pods
    want = [_expected_facts(p, changes) for p in before]
    got = [_facts(p) for p in after.pods]
    if want != got:
        raise Unverified("debugbox's own reading of the edited document differs from the intended change")
