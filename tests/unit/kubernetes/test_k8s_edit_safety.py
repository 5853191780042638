"""Manifest edits never corrupt (issue 10 §4): anchors, aliases and merge keys, odd values, and the one
verification step every edit passes. PyYAML is the judge of what a document means after an edit."""

from __future__ import annotations

import pytest
from debugbox.core.analysis import ActionContext
from debugbox.core.kubernetes.analysis import analyze
from debugbox.core.kubernetes.edits import (
    HOST_PID_REASON,
    Edit,
    NothingToDo,
    Refused,
    apply_edits,
    plan_share_pid,
    share_pid_edits,
    sidecar_edits,
    verification_may_refuse,
)
from debugbox.core.kubernetes.pod_spec import scan_document
from debugbox.core.kubernetes.yamlstream import split_documents
from debugbox.core.settings import Settings
from k8s_support import load_all, pods_of
from lsprotocol import types as lsp

from tests.conftest import FIXTURES

SETTINGS = Settings(toolbox_image="example.org/toolbox:1")
URI = "file:///project/pods.yaml"

MERGE_SHARED = (FIXTURES / "k8s" / "merge-key-shared.yaml").read_text(encoding="utf-8")


def _plan_all(text: str) -> tuple[str, list[str], list[str]]:
    """The CLI's `share-pid` on every pod spec: (new text, changed, refused)."""
    docs = []
    pods = []
    for chunk in split_documents(text):
        if chunk.index is None:
            continue
        scan = scan_document(chunk.text)
        docs.append((chunk.start, chunk.index, scan))
        pods.extend((len(docs) - 1, pod) for pod in scan.pods)
    plan = plan_share_pid(docs, pods)
    return apply_edits(text, plan.absolute()), plan.changed, plan.refused


def _spn(doc: dict[str, object], i: int) -> object:
    items = doc["items"]
    assert isinstance(items, list)
    return items[i]["spec"].get("shareProcessNamespace")


def test_merge_key_shared_by_two_pods_every_pod_gets_its_own_key_never_truetrue() -> None:
    new, changed, refused = _plan_all(MERGE_SHARED)
    assert "truetrue" not in new and refused == [] and len(changed) == 2
    doc = load_all(new)[0]
    assert [_spn(doc, 0), _spn(doc, 1)] == [True, True]
    assert "&defaults {shareProcessNamespace: false" in new  # the shared defaults are left alone
    assert new.count("    shareProcessNamespace: true\n") == 2


def test_merge_key_quick_fix_on_one_pod_leaves_the_other() -> None:
    _chunk, scan, pod = pods_of(MERGE_SHARED)[0]
    new = apply_edits(MERGE_SHARED, share_pid_edits(scan, pod))
    doc = load_all(new)[0]
    assert [_spn(doc, 0), _spn(doc, 1)] == [True, False]
    # The explicit key goes after the merge key: Go's YAML v2 reader (kubectl) lets a later merge win.
    assert new.index("    shareProcessNamespace: true\n") > new.index("<<: &defaults")


def test_merge_key_in_a_flow_pod_spec_appends_the_key_after_the_merge() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Pod, spec: {<<: &d {shareProcessNamespace: false, containers: []}}}\n"
        "- {apiVersion: v1, kind: Pod, spec: {<<: *d}}\n"
    )
    _chunk, scan, pod = pods_of(text)[1]
    new = apply_edits(text, share_pid_edits(scan, pod))
    assert new.endswith("spec: {<<: *d, shareProcessNamespace: true}}\n")
    doc = load_all(new)[0]
    assert [_spn(doc, 0), _spn(doc, 1)] == [False, True]


ANCHORED_VALUE = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
  spec:
    shareProcessNamespace: &f false
    containers: [{name: a, image: nginx}]
- apiVersion: v1
  kind: Pod
  metadata: {name: two}
  spec:
    shareProcessNamespace: *f
    containers: [{name: a, image: nginx}]
"""


def test_anchored_value_used_elsewhere_is_refused_naming_the_alias() -> None:
    _chunk, scan, pod = pods_of(ANCHORED_VALUE)[0]
    with pytest.raises(Refused, match=r"Pod two .*anchored as &f .*alias \*f"):
        share_pid_edits(scan, pod)


def test_anchored_value_the_alias_user_is_edited_and_the_anchor_survives() -> None:
    _chunk, scan, pod = pods_of(ANCHORED_VALUE)[1]
    new = apply_edits(ANCHORED_VALUE, share_pid_edits(scan, pod))
    doc = load_all(new)[0]  # "undefined alias" if the anchor had been dropped
    assert [_spn(doc, 0), _spn(doc, 1)] == [False, True]


def test_anchored_value_used_by_every_pod_asked_for_is_edited_once_keeping_the_anchor() -> None:
    new, changed, refused = _plan_all(ANCHORED_VALUE)
    doc = load_all(new)[0]
    assert [_spn(doc, 0), _spn(doc, 1)] == [True, True], (changed, refused)


def test_anchored_value_not_used_elsewhere_keeps_its_anchor() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  shareProcessNamespace: &f false\n  containers: []\n"
    _chunk, scan, pod = pods_of(text)[0]
    assert apply_edits(text, share_pid_edits(scan, pod)) == text.replace("&f false", "&f true")


ANCHORED_SPEC = (FIXTURES / "k8s" / "anchored-pod-spec.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("index", [0, 1])
def test_anchored_pod_spec_reused_by_alias_one_pod_is_refused_naming_the_alias(index: int) -> None:
    _chunk, scan, pod = pods_of(ANCHORED_SPEC)[index]
    other = "two" if index == 0 else "one"
    with pytest.raises(Refused, match=rf"Pod {other} .*anchored as &spec .*alias \*spec"):
        share_pid_edits(scan, pod)
    with pytest.raises(Refused, match=r"alias \*spec"):
        sidecar_edits(scan, pod, "busybox")


def test_anchored_pod_spec_quick_fix_changes_nothing_and_says_why() -> None:
    analysis = analyze(URI, ANCHORED_SPEC, SETTINGS)
    ctx = ActionContext(settings=SETTINGS, file_exists=lambda _uri: False)
    import lsprotocol.types as lsp

    actions = analysis.actions(lsp.Range(lsp.Position(8, 4), lsp.Position(8, 4)), ctx)
    share = [a for a in actions if a.title.startswith("Add shareProcessNamespace")]
    assert share and share[0].edits == () and "alias *spec" in (share[0].disabled_reason or "")
    outcome = analysis.share_pid(8)
    assert outcome.edits == [] and "alias *spec" in outcome.refused[0]


def test_anchored_pod_spec_every_pod_asked_for_gets_one_edit() -> None:
    new, changed, refused = _plan_all(ANCHORED_SPEC)
    assert refused == [] and len(changed) == 2
    doc = load_all(new)[0]
    assert [_spn(doc, 0), _spn(doc, 1)] == [True, True]
    assert new.count("shareProcessNamespace") == 1


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\n  - a\n  - b", "list"),
        ("\n    x: false", "mapping"),
        (" |\n    false", "block scalar"),
        (" >-\n    no", "block scalar"),
    ],
)
def test_collections_and_block_scalars_as_the_value_are_refused(value: str, reason: str) -> None:
    text = POD + f"  shareProcessNamespace:{value}\n  containers:\n  - {{name: a, image: b}}\n"
    _chunk, scan, pod = pods_of(text)[0]
    with pytest.raises(Refused, match=reason):
        share_pid_edits(scan, pod)


@pytest.mark.parametrize("value", [" [false]", " {x: 1}", " !!str false", " 'no'", " *g"])
def test_flow_and_tagged_values_are_replaced_correctly(value: str) -> None:
    text = "x: &g false\n" if "*g" in value else ""
    text = POD + text.replace("x:", "  x:") + f"  shareProcessNamespace:{value}\n  containers: []\n"
    _chunk, scan, pod = pods_of(text)[0]
    new = apply_edits(text, share_pid_edits(scan, pod))
    spec = load_all(new)[0]["spec"]
    assert spec["shareProcessNamespace"] is True and spec["containers"] == []


@pytest.mark.parametrize(
    "layout",
    [
        "  ? shareProcessNamespace\n  : false\n",
        "  ? shareProcessNamespace\n  :\n",
        "  ? shareProcessNamespace\n",
        "  ? shareProcessNamespace  # the flag\n  : no\n",
    ],
)
def test_explicit_key_gets_a_correct_edit_or_a_refusal(layout: str) -> None:
    text = POD + layout + "  containers:\n  - {name: a, image: b}\n"
    _chunk, scan, pod = pods_of(text)[0]
    try:
        new = apply_edits(text, share_pid_edits(scan, pod))
    except Refused:
        return
    spec = load_all(new)[0]["spec"]
    assert spec == {"shareProcessNamespace": True, "containers": [{"name": "a", "image": "b"}]}


def test_the_verification_rejects_a_draft_that_does_not_do_what_it_says() -> None:
    from debugbox.core.kubernetes.edits import Draft, verified
    from debugbox.core.kubernetes.verify import Change

    text = POD + "  shareProcessNamespace: false\n  containers: []\n"
    _chunk, scan, _pod = pods_of(text)[0]
    at = text.index("false")
    change = [Change(("spec",), "shareProcessNamespace", True)]
    garbage = Draft([Edit(at, at + 5, "truetrue")], change)
    with pytest.raises(Refused, match="intended value"):
        verified(scan, garbage)
    broken = Draft([Edit(at, at + 5, "[true")], change)
    with pytest.raises(Refused, match="would not load"):
        verified(scan, broken)
    extra = Draft([Edit(at, at + 5, "true"), Edit(len(text), len(text), "  hostPID: true\n")], change)
    with pytest.raises(Refused, match=r"also change Pod p \(spec\.hostPID\)"):
        verified(scan, extra)
    new_doc = Draft([Edit(at, at + 5, "true"), Edit(len(text), len(text), "---\nkind: Pod\n")], change)
    with pytest.raises(Refused, match="documents"):
        verified(scan, new_doc)
    assert verified(scan, Draft([Edit(at, at + 5, "true")], change)) == [Edit(at, at + 5, "true")]


def test_already_true_through_a_merge_is_nothing_to_do() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  <<: {shareProcessNamespace: true}\n  containers: []\n"
    _chunk, scan, pod = pods_of(text)[0]
    with pytest.raises(NothingToDo):
        share_pid_edits(scan, pod)


def test_a_merge_from_an_anchor_outside_the_pod_specs_is_read() -> None:
    # `defaults` is no part of any pod spec; its anchor is still what the merge key brings in.
    text = (
        "apiVersion: v1\nkind: List\ndefaults: &d {shareProcessNamespace: true}\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  spec:\n    <<: *d\n    containers: []\n"
    )
    _chunk, scan, pod = pods_of(text)[0]
    assert pod.share_process_namespace is True
    with pytest.raises(NothingToDo):
        share_pid_edits(scan, pod)


def test_verifying_an_edit_next_to_an_alias_bomb_is_bounded() -> None:
    # Expanded, `*a13` is 9**14 strings; the verification compares shared objects once, so this returns.
    lines = [POD.rstrip("\n").replace("metadata: {name: p}", "metadata:\n  annotations:")]
    lines.append("    a0: &a0 [x, x, x, x, x, x, x, x, x]")
    lines.extend(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 14))
    lines.append("spec:\n  x: *a13\n  containers:\n  - {name: a, image: b}\n")
    text = "\n".join(lines)
    _chunk, scan, pod = pods_of(text)[0]
    assert share_pid_edits(scan, pod)
    assert sidecar_edits(scan, pod, "busybox")[1] == "debug"


@pytest.mark.parametrize(
    "extra", ["metadata: {annotations: {x: !Ref foo, y: !Seq [1]}}\n", "metadata: {annotations: {n: .nan}}\n"]
)
def test_unknown_tags_and_nan_elsewhere_do_not_block_the_edit(extra: str) -> None:
    # The judge keeps tags it does not know, and NaN equals NaN there: neither is a difference.
    text = "apiVersion: v1\nkind: Pod\n" + extra + "spec:\n  restartPolicy: Always\n  containers: []\n"
    _chunk, scan, pod = pods_of(text)[0]
    assert apply_edits(text, share_pid_edits(scan, pod)) == text + "  shareProcessNamespace: true\n"


POD_OF_PARTS = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web{meta}\nspec:{spec}\n  restartPolicy: {policy}\n"
    "  containers:{containers}\n"
)
CONTAINERS = "\n  - name: app\n    image: nginx"


def _pod(meta: str = "", spec: str = "", policy: str = "Always", containers: str = CONTAINERS) -> str:
    return POD_OF_PARTS.format(meta=meta, spec=spec, policy=policy, containers=containers)


@pytest.mark.parametrize(
    ("text", "may"),
    [
        (_pod(), False),
        (_pod(meta="\n  labels: &l {app: web}\n  annotations: *l"), False),  # sharing beside the spec
        (_pod(spec=" &s"), True),  # the pod spec itself is anchored
        (_pod(policy="&p Always"), True),  # a value inside it is
        (_pod(containers=" *c"), True),  # an alias inside it
        (_pod(spec="\n  <<: {hostNetwork: false}"), True),  # a merge key, even without an alias
        (_pod(policy="!!str Always"), True),  # a tag
        (_pod(policy='"*"'), True),  # errs on the safe side: a star in a scalar counts
        (
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template: &t\n    spec:\n      containers:"
            "\n      - {name: a, image: nginx}\n",
            True,  # an anchor around the pod spec
        ),
    ],
)
def test_verification_may_refuse_only_where_yaml_shares_or_tags_text_near_the_pod_spec(
    text: str, may: bool
) -> None:
    ((_chunk, scan, pod),) = pods_of(text)
    assert verification_may_refuse(scan, pod) is may


def _offered(text: str, defer: bool, wanted: str | None = None) -> list[tuple[str, bool, int, str | None]]:
    ctx = ActionContext(settings=SETTINGS, file_exists=lambda _uri: False, defer_checks=defer, wanted=wanted)
    lines = text.split("\n")
    at = lsp.Position(
        line=next(i for i, ln in enumerate(lines) if ln.startswith("  restartPolicy")), character=2
    )
    actions = analyze(URI, text, SETTINGS).actions(lsp.Range(start=at, end=at), ctx)
    return [(a.title, a.deferred, len(a.edits), a.disabled_reason) for a in actions if a.command is None]


def test_deferred_actions_come_without_edits_where_the_check_cannot_refuse() -> None:
    eager, deferred = _offered(_pod(), defer=False), _offered(_pod(), defer=True)
    assert [(t, d, n > 0, r) for t, d, n, r in eager] == [(t, False, True, None) for t, *_ in eager]
    assert deferred == [(t, True, 0, None) for t, *_ in eager]
    # Near YAML sharing the check runs now, deferral asked for or not: a refusal is shown before it is chosen.
    shared = _pod(spec=" &s")
    assert _offered(shared, defer=True) == _offered(shared, defer=False)
    # Resolving one asks for that title alone: the other edit is not checked for it.
    for title, *_ in eager:
        assert _offered(_pod(), defer=False, wanted=title) == [e for e in eager if e[0] == title]
    # The draft's own refusals are shown either way.
    host_pid = _pod(spec="\n  hostPID: true")
    assert _offered(host_pid, defer=True)[0][3] == _offered(host_pid, defer=False)[0][3] == HOST_PID_REASON
