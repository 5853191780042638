"""Property tests for issue 10 §4: generated `kind: List` manifests whose pods share text through anchors,
aliases and merge keys (pod specs, values, defaults), in block and flow style, with comments and odd line
breaks. Every edit either refuses and changes nothing, or yields a document that loads and differs from the
original only by the intended change in the intended pod spec(s).

The judge is PyYAML, and the expected document is built here independently of debugbox's verification: the
loaded trees are unshared through JSON (an alias becomes a copy), the intended values are set on the copy."""

from __future__ import annotations

import json
from typing import Any

from debugbox.core.kubernetes.edits import (
    NothingToDo,
    Refused,
    apply_edits,
    plan_share_pid,
    share_pid_edits,
    sidecar_edits,
    verification_may_refuse,
)
from debugbox.core.kubernetes.pod_spec import scan_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from k8s_support import at_path, load_all

SPN_CHOICES = ["absent", "false", "true", "no", "anchored", "alias", "merged", "merged+own"]


@st.composite
def lists(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """(text, per pod: what it is made of), a `kind: List` of 1-4 pods."""
    comments = draw(st.booleans())
    n = draw(st.integers(1, 4))
    defaults = draw(st.sampled_from(["false", "true"]))
    lines = ["apiVersion: v1", "kind: List"]
    if comments:
        lines.append("# shared defaults")
    lines.append(f"defaults: &d {{shareProcessNamespace: {defaults}, restartPolicy: Always}}")
    lines.append("items:")
    pods: list[dict[str, Any]] = []
    spec_anchors: list[str] = []
    value_anchors: list[str] = []
    for i in range(n):
        kind = draw(st.sampled_from(["Pod", "Deployment"]))
        pad = "    " if kind == "Pod" else "        "
        lines.append(f"- apiVersion: v1\n  kind: {kind}\n  metadata: {{name: p{i}}}")
        if kind == "Deployment":
            lines.append("  spec:\n    template:")
        key_pad = pad[:-2]
        if spec_anchors and draw(st.integers(0, 3)) == 0:
            target = draw(st.sampled_from(spec_anchors))
            lines.append(f"{key_pad}spec: *{target}")
            pods.append({"made": "alias-spec"})
            continue
        spn = draw(st.sampled_from(SPN_CHOICES))
        if spn == "alias" and not value_anchors:
            spn = "false"
        anchor = f"s{i}" if draw(st.booleans()) else None
        flow = draw(st.integers(0, 3)) == 0
        entries: list[str] = []
        if spn.startswith("merged"):
            entries.append("<<: *d")
        if spn in ("false", "true", "no", "merged+own"):
            entries.append(f"shareProcessNamespace: {'false' if spn == 'merged+own' else spn}")
        elif spn == "anchored":
            value_anchors.append(f"f{i}")
            entries.append(f"shareProcessNamespace: &f{i} false")
        elif spn == "alias":
            entries.append(f"shareProcessNamespace: *{draw(st.sampled_from(value_anchors))}")
        if draw(st.booleans()):
            entries.append("hostNetwork: false")
        entries.append(
            "containers: [{name: a, image: nginx}]" if flow else "containers:\n- name: a\n  image: nginx"
        )
        order = draw(st.permutations(range(len(entries))))
        head = f"{key_pad}spec:" + (f" &{anchor}" if anchor else "")
        if flow:
            lines.append(head + " {" + ", ".join(entries[j] for j in order) + "}")
        else:
            lines.append(head + (" # the pod" if comments else ""))
            for j in order:
                if comments and draw(st.booleans()):
                    lines.append(f"{pad}# about {entries[j].split(':')[0]}")
                lines.extend(pad + part for part in entries[j].split("\n"))
        if anchor:
            spec_anchors.append(anchor)
        pods.append({"made": spn, "anchor": anchor, "flow": flow})
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return eol.join(lines).replace("\n", eol) + eol, pods


def _unshared(text: str) -> Any:
    return json.loads(json.dumps(load_all(text)[0]))


def _check(text: str, new: str, pods: list[Any], paths: list[str], container: bool) -> None:
    """`new` is `text` with shareProcessNamespace true (and a debug container) in `paths`' pods only."""
    expected = _unshared(text)
    for path in paths:
        spec = at_path(expected, path)
        if container:
            spec["containers"].append(
                {
                    "name": "debug",
                    "image": "busybox",
                    "stdin": True,
                    "tty": True,
                    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
                }
            )
            # The sidecar also sets shareProcessNamespace where it safely can; anywhere else it stays as it was.
            if at_path(_unshared(new), path).get("shareProcessNamespace") is True:
                spec["shareProcessNamespace"] = True
        else:
            spec["shareProcessNamespace"] = True
    assert _unshared(new) == expected


def _pods(text: str) -> tuple[Any, list[Any]]:
    scan = scan_document(text)
    return scan, scan.pods


PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(lists())
def test_share_pid_on_one_pod_changes_exactly_that_pod_or_refuses(case: tuple[str, list[Any]]) -> None:
    text, made = case
    scan, pods = _pods(text)
    assert len(pods) == len(made)
    for pod, what in zip(pods, made, strict=True):
        try:
            new = apply_edits(text, share_pid_edits(scan, pod))
        except NothingToDo:
            assert at_path(_unshared(text), pod.path)["shareProcessNamespace"] is True
            continue
        except Refused as exc:
            # Only text shared with another place may be refused; a pod spec of its own never is.
            assert what["made"] in ("alias-spec", "anchored", "alias") or what.get("anchor"), (what, str(exc))
            assert "alias *" in str(exc)  # the refusal names the alias that shares the text
            assert verification_may_refuse(scan, pod)  # so an editor was shown it before choosing
            continue
        _check(text, new, pods, [pod.path], container=False)


@PROPS
@given(lists())
def test_sidecar_on_one_pod_changes_exactly_that_pod_or_refuses(case: tuple[str, list[Any]]) -> None:
    text, made = case
    scan, pods = _pods(text)
    for pod, what in zip(pods, made, strict=True):
        try:
            edits, name = sidecar_edits(scan, pod, "busybox")
        except Refused as exc:
            assert what["made"] == "alias-spec" or what.get("anchor"), (what, str(exc))
            assert "alias" in str(exc)
            assert verification_may_refuse(scan, pod)
            continue
        assert name == "debug"
        _check(text, apply_edits(text, edits), pods, [pod.path], container=True)


@PROPS
@given(lists())
def test_share_pid_on_every_pod_changes_exactly_the_ones_it_reports(case: tuple[str, list[Any]]) -> None:
    text, _made = case
    scan, pods = _pods(text)
    plan = plan_share_pid([(0, 0, scan)], [(0, pod) for pod in pods])
    new = apply_edits(text, plan.absolute())
    changed = [p.path for p in pods if any(c.endswith(f"({p.path})") for c in plan.changed)]
    assert len(changed) == len(plan.changed)
    assert len(plan.changed) + len(plan.refused) + len(plan.unchanged) == len(pods)
    _check(text, new, pods, changed, container=False)
    if not plan.refused:  # asked for every pod and none refused: every pod shares its processes now
        loaded = load_all(new)[0]
        assert all(at_path(loaded, p.path)["shareProcessNamespace"] is True for p in pods)
