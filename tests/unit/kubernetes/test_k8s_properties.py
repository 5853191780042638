"""Property tests: generated manifests (random indentation, key order, comments, flow/block style, JSON, line
endings, final newline or not) are found, and both edits keep every other byte and every other value."""

from __future__ import annotations

import copy
import json
from typing import Any

from debugbox.core.kubernetes.edits import NothingToDo, Refused, share_pid_edits, sidecar_edits
from debugbox.core.kubernetes.pod_spec import POD_SPEC_PATHS, find_pod_specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from k8s_support import apply_in, at_path, changed_lines, load_all, pods_of

SCALARS = {
    "restartPolicy": "Always",
    "serviceAccountName": "sa",
    "hostNetwork": "false",
    "terminationGracePeriodSeconds": "30",
    "dnsPolicy": "ClusterFirst",
}
KINDS = sorted(POD_SPEC_PATHS)


@st.composite
def containers(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 3))
    out = []
    for i in range(n):
        c: dict[str, Any] = {
            "name": f"c{i}",
            "image": draw(st.sampled_from(["nginx", "gcr.io/distroless/base"])),
        }
        if draw(st.booleans()):
            c["args"] = ["--port", "80"]
        if draw(st.booleans()):
            c["command"] = "run\n---\nkind: Pod"  # a block scalar holding YAML-looking text
        if draw(st.booleans()):
            c["env"] = [{"name": "A", "value": "1"}]
        out.append(c)
    return out


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """(text, pod spec path, the pod spec as PyYAML should read it)."""
    kind = draw(st.sampled_from(KINDS))
    pod: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(sorted(SCALARS)), unique=True, max_size=3)):
        pod[key] = SCALARS[key]
    pod["containers"] = draw(containers())
    spn = draw(st.sampled_from([None, "false", "true"]))
    if spn is not None:
        pod["shareProcessNamespace"] = spn
    if draw(st.integers(0, 4)) == 0:
        pod["hostPID"] = "true"
    if draw(st.booleans()):
        pod["volumes"] = [{"name": "v", "emptyDir": {}}]
    order = draw(st.permutations(sorted(pod)))
    pod = {k: pod[k] for k in order}
    path = POD_SPEC_PATHS[kind]
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "m"}}
    inner: dict[str, Any] = doc
    for step in path[:-1]:
        inner = inner.setdefault(step, {})
    inner[path[-1]] = pod
    top = draw(st.permutations(sorted(doc)))
    doc = {k: doc[k] for k in top}
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        indent = draw(st.sampled_from([None, 2, 4]))
        text = json.dumps(_typed(doc), indent=indent)
    else:
        width = draw(st.integers(1, 4))
        seq_indent = draw(st.booleans())
        flow_pod = draw(st.integers(0, 5)) == 0
        comments = draw(st.booleans())
        lines = _block(doc, 0, width, seq_indent, comments, flow_at=path if flow_pod else None, trail=())
        text = "\n".join(lines)
    text = text.replace("\n", eol) + (eol if final else "")
    return text, ".".join(path), _typed(pod)


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return json.dumps(value) if "\n" in value or value.startswith("-") else value


def _block(
    value: dict[str, Any],
    level: int,
    width: int,
    seq_indent: bool,
    comments: bool,
    flow_at: tuple[str, ...] | None,
    trail: tuple[str, ...],
) -> list[str]:
    pad = " " * (level * width)
    lines: list[str] = []
    for i, (key, v) in enumerate(value.items()):
        here = (*trail, key)
        if comments and i % 2 == 1:
            lines.append(f"{pad}# about {key}")
        if flow_at is not None and here == flow_at:
            lines.append(f"{pad}{key}: {_flow(v)}")
        elif isinstance(v, dict):
            if not v:
                lines.append(f"{pad}{key}: {{}}")
                continue
            lines.append(f"{pad}{key}:" + (" # a map" if comments else ""))
            lines.extend(_block(v, level + 1, width, seq_indent, comments, flow_at, here))
        elif isinstance(v, list):
            lines.append(f"{pad}{key}:")
            dash = pad + (" " * width if seq_indent else "")
            for item in v:
                if isinstance(item, dict):
                    sub = _block(item, 0, width, seq_indent, False, None, ())
                    inner = dash + "  "
                    lines.append(f"{dash}- {sub[0]}")
                    lines.extend(inner + line for line in sub[1:])
                else:
                    lines.append(f"{dash}- {_flow(item)}")
        elif "\n" in v:
            lines.append(f"{pad}{key}: |-")
            lines.extend(pad + " " * width + line for line in v.splitlines())
        else:
            lines.append(f"{pad}{key}: {v}" + (" # note" if comments and i % 3 == 0 else ""))
    return lines


COMMON = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(manifests())
def test_generated_manifest_pod_spec_is_found(case: tuple[str, str, dict[str, Any]]) -> None:
    text, path, pod = case
    assert at_path(load_all(text)[0], path) == pod  # the generator itself writes what it means
    (spec,) = find_pod_specs(text)
    assert spec.path == path
    assert [(c.name, c.image) for c in spec.containers] == [
        (c["name"], c["image"]) for c in pod["containers"]
    ]
    assert spec.share_process_namespace == pod.get("shareProcessNamespace")
    assert spec.host_pid == pod.get("hostPID")


@COMMON
@given(manifests())
def test_share_process_namespace_edit_changes_only_that(case: tuple[str, str, dict[str, Any]]) -> None:
    text, path, pod = case
    ((chunk, scan, found),) = pods_of(text)
    try:
        edits = share_pid_edits(scan, found)
    except Refused:
        assert pod.get("hostPID") is True
        return
    except NothingToDo:
        assert pod.get("shareProcessNamespace") is True
        return
    new = apply_in(text, chunk, edits)
    after = load_all(new)[0]
    assert at_path(after, path)["shareProcessNamespace"] is True
    expected = copy.deepcopy(load_all(text)[0])
    at_path(expected, path)["shareProcessNamespace"] = True
    assert after == expected
    if "\r\n" in text:
        assert "\n" not in new.replace("\r\n", "")
    assert new.endswith(("\n", "\r\n")) == text.endswith(("\n", "\r\n"))
    removed, added = changed_lines(text, new)
    if found.spn[0] is None and not found.node.flow:
        assert removed == [] and len(added) == 1
        assert added[0].strip() in ("shareProcessNamespace: true", '"shareProcessNamespace": true,')
    elif found.spn[0] is not None:
        assert len(removed) == len(added) == 1


@COMMON
@given(manifests())
def test_sidecar_edit_adds_the_container_and_shares_processes(case: tuple[str, str, dict[str, Any]]) -> None:
    text, path, pod = case
    ((chunk, scan, found),) = pods_of(text)
    edits, name = sidecar_edits(scan, found, "nicolaka/netshoot")
    new = apply_in(text, chunk, edits)
    spec = at_path(load_all(new)[0], path)
    assert spec["containers"][:-1] == pod["containers"]
    assert spec["containers"][-1]["name"] == name == "debug"
    assert spec["containers"][-1]["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}
    expected_spn = pod.get("shareProcessNamespace") if pod.get("hostPID") else True  # hostPID: left alone
    assert spec.get("shareProcessNamespace") is expected_spn
    rest = {k: v for k, v in spec.items() if k not in ("containers", "shareProcessNamespace")}
    assert rest == {k: v for k, v in pod.items() if k not in ("containers", "shareProcessNamespace")}
    if "\r\n" in text:
        assert "\n" not in new.replace("\r\n", "")
