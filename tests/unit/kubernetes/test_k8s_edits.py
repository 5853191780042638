"""The edit rules, one layout at a time, with the exact text expected (docs/kubernetes-manifests.md)."""

from __future__ import annotations

import pytest
from debugbox.core.kubernetes.edits import (
    NothingToDo,
    Refused,
    share_pid_edits,
    sidecar_edits,
)
from k8s_support import apply_in, at_path, load_all, pods_of


def spn(text: str, index: int = 0) -> str:
    chunk, scan, pod = pods_of(text)[index]
    return apply_in(text, chunk, share_pid_edits(scan, pod))


def sidecar(text: str, image: str = "nicolaka/netshoot") -> str:
    chunk, scan, pod = pods_of(text)[0]
    edits, _ = sidecar_edits(scan, pod, image)
    return apply_in(text, chunk, edits)


POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"


def test_inserted_after_the_last_one_line_key_of_the_pod_spec() -> None:
    text = POD + (
        "spec:\n"
        "  restartPolicy: Always  # keep\n"
        "  # the containers\n"
        "  containers:\n"
        "  - name: app\n"
        "    image: nginx\n"
        "  nodeSelector: {disk: ssd}\n"
        "  # volumes below\n"
        "  volumes:\n"
        "  - name: v\n"
        "    emptyDir: {}\n"
    )
    assert spn(text) == text.replace(
        "  nodeSelector: {disk: ssd}\n", "  nodeSelector: {disk: ssd}\n  shareProcessNamespace: true\n"
    )


def test_without_one_line_keys_it_goes_under_the_spec_line_so_comments_stay_with_their_keys() -> None:
    text = (
        POD
        + "spec: # the pod\n    # about containers\n    containers:\n"
        + "      - name: app\n        image: nginx\n"
    )
    assert spn(text) == text.replace(
        "spec: # the pod\n", "spec: # the pod\n    shareProcessNamespace: true\n"
    )


def test_false_is_flipped_in_place_keeping_its_comment() -> None:
    text = POD + "spec:\n  shareProcessNamespace: false # was off\n  containers:\n  - {name: a, image: b}\n"
    assert spn(text) == text.replace("false # was off", "true # was off")


@pytest.mark.parametrize("value", ["", " ~", " null", ' "false"', " no"])
def test_other_values_are_replaced(value: str) -> None:
    text = POD + f"spec:\n  shareProcessNamespace:{value}\n  containers:\n  - {{name: a, image: b}}\n"
    new = spn(text)
    assert "  shareProcessNamespace: true\n" in new
    assert load_all(new)[0]["spec"]["shareProcessNamespace"] is True


def test_already_true_is_nothing_to_do_and_host_pid_is_refused() -> None:
    text = POD + "spec:\n  shareProcessNamespace: yes\n  containers: []\n"
    _, scan, pod = pods_of(text)[0]
    with pytest.raises(NothingToDo):
        share_pid_edits(scan, pod)
    text = POD + "spec:\n  hostPID: true\n  containers: []\n"
    _, scan, pod = pods_of(text)[0]
    with pytest.raises(Refused, match="hostPID"):
        share_pid_edits(scan, pod)


@pytest.mark.parametrize("indent", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("seq_indent", [0, 2])
def test_any_indentation_width(indent: int, seq_indent: int) -> None:
    i, s = " " * indent, " " * seq_indent
    text = (
        f"apiVersion: apps/v1\nkind: Deployment\nspec:\n{i}template:\n{i}{i}spec:\n"
        f"{i}{i}{i}containers:\n{i}{i}{i}{s}- name: app\n{i}{i}{i}{s}  image: nginx\n"
    )
    new = spn(text)
    assert new == text.replace(f"{i}{i}spec:\n", f"{i}{i}spec:\n{i}{i}{i}shareProcessNamespace: true\n")
    side = sidecar(text)
    spec = load_all(side)[0]["spec"]["template"]["spec"]
    assert spec["shareProcessNamespace"] is True and spec["containers"][1]["name"] == "debug"
    assert f"{i}{i}{i}{s}- name: debug\n{i}{i}{i}{s}  image: nicolaka/netshoot\n" in side


def test_crlf_stays_crlf_and_no_final_newline_stays_that_way() -> None:
    text = (POD + "spec:\n  restartPolicy: Never\n  containers:\n  - name: a\n    image: b").replace(
        "\n", "\r\n"
    )
    new = spn(text)
    assert new == text.replace("Never\r\n", "Never\r\n  shareProcessNamespace: true\r\n")
    assert "\n" not in new.replace("\r\n", "")
    side = sidecar(text)
    assert not side.endswith("\n") and "\n" not in side.replace("\r\n", "")
    assert side.endswith("    add: [SYS_PTRACE]")


def test_last_line_without_newline_is_not_touched() -> None:
    text = POD + "spec:\n  containers:\n  - {name: a, image: b}\n  restartPolicy: Never"
    assert spn(text) == text.replace("spec:\n", "spec:\n  shareProcessNamespace: true\n")


def test_flow_style_pod_spec_gets_an_inline_key() -> None:
    text = POD + "spec: {containers: [{name: a, image: b}]}\n"
    assert spn(text) == POD + "spec: {shareProcessNamespace: true, containers: [{name: a, image: b}]}\n"
    side = sidecar(text)
    assert side == POD + (
        "spec: {shareProcessNamespace: true, containers: [{name: a, image: b}, {name: debug, "
        'image: "nicolaka/netshoot", stdin: true, tty: true, securityContext: {capabilities: '
        "{add: [SYS_PTRACE]}}}]}\n"
    )


def test_empty_flow_containers() -> None:
    text = POD + "spec: {containers: []}\n"
    spec = load_all(sidecar(text))[0]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["debug"] and spec["shareProcessNamespace"] is True


def test_pretty_json_gets_one_line_and_stays_json() -> None:
    import json

    doc = {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a", "image": "b"}]}}
    text = json.dumps(doc, indent=2) + "\n"
    new = spn(text)
    assert json.loads(new)["spec"]["shareProcessNamespace"] is True
    assert new == text.replace('"spec": {\n', '"spec": {\n    "shareProcessNamespace": true,\n')
    side = json.loads(sidecar(text))
    assert side["spec"]["containers"][1]["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}


def test_compact_json_gets_an_inline_key() -> None:
    import json

    text = '{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"b"}]}}'
    new = spn(text)
    assert new == text.replace('"spec":{', '"spec":{"shareProcessNamespace": true, ')
    assert json.loads(sidecar(text))["spec"]["containers"][-1]["name"] == "debug"


def test_sidecar_picks_a_free_name_and_quotes_odd_images() -> None:
    text = POD + (
        "spec:\n  initContainers:\n  - {name: debug, image: x}\n"
        "  containers:\n  - name: debug-2\n    image: y\n"
    )
    new = sidecar(text, image="registry:5000/tool box")
    spec = load_all(new)[0]["spec"]
    assert spec["containers"][-1]["name"] == "debug-3"
    assert spec["containers"][-1]["image"] == "registry:5000/tool box"


def test_sidecar_appends_after_the_last_container_even_with_trailing_block_scalar() -> None:
    text = POD + (
        "spec:\n  containers:\n  - name: a\n    image: b\n    args:\n    - |\n      run\n\n"
        "  # volumes\n  volumes: []\n"
    )
    new = sidecar(text)
    assert "      run\n  - name: debug\n" in new
    assert "\n  # volumes\n  volumes: []\n" in new
    spec = at_path(load_all(new)[0], "spec")
    assert spec["containers"][0]["args"] == ["run\n"]


def test_sidecar_refused_without_containers_or_through_aliases() -> None:
    text = POD + "spec:\n  restartPolicy: Never\n"
    _, scan, pod = pods_of(text)[0]
    with pytest.raises(Refused, match="no containers"):
        sidecar_edits(scan, pod, "x")
    text = "x: &c\n- {name: a, image: b}\n" + POD + "spec:\n  containers: *c\n"
    _, scan, pod = pods_of(text)[0]
    with pytest.raises(Refused, match="alias"):
        sidecar_edits(scan, pod, "x")


def test_host_pid_sidecar_adds_only_the_container() -> None:
    text = POD + "spec:\n  hostPID: true\n  containers:\n  - {name: a, image: b}\n"
    spec = load_all(sidecar(text))[0]["spec"]
    assert "shareProcessNamespace" not in spec and spec["containers"][-1]["name"] == "debug"


def test_multi_document_edit_touches_only_its_document() -> None:
    doc = POD + "spec:\n  containers:\n  - {name: a, image: b}\n"
    text = doc + "---\n" + doc + "---\n" + doc
    new = spn(text, index=1)
    docs = load_all(new)
    assert ["shareProcessNamespace" in d["spec"] for d in docs] == [False, True, False]
