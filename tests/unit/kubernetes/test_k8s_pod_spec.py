"""Finding pod specs: every kind and path, multi-document streams, and YAML corners that must not fool it."""

from __future__ import annotations

import pytest
import yaml
from debugbox.core.kubernetes.pod_spec import find_pod_specs, scan_document
from debugbox.core.kubernetes.yamlstream import (
    Alias,
    Map,
    Node,
    ParseError,
    Scalar,
    Seq,
    parse_tree,
    split_documents,
)
from k8s_support import load_all

CONTAINERS = "containers:\n- name: app\n  image: nginx\n"


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line if line.strip() else line for line in text.splitlines(keepends=True))


@pytest.mark.parametrize(
    ("kind", "head", "path"),
    [
        ("Pod", "spec:\n", "spec"),
        ("Deployment", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        ("StatefulSet", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        ("DaemonSet", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        ("ReplicaSet", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        ("ReplicationController", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        ("Job", "spec:\n  template:\n    spec:\n", "spec.template.spec"),
        (
            "CronJob",
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n",
            "spec.jobTemplate.spec.template.spec",
        ),
        ("PodTemplate", "template:\n  spec:\n", "template.spec"),
    ],
)
def test_every_kind_has_its_pod_spec_path(kind: str, head: str, path: str) -> None:
    depth = head.count("\n") * 2
    text = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n{head}{_indent(CONTAINERS, depth)}"
    (spec,) = find_pod_specs(text)
    assert (spec.kind, spec.path, spec.name) == (kind, path, "x")
    assert [(c.name, c.image, c.init) for c in spec.containers] == [("app", "nginx", False)]
    assert spec.line == text.count("\n", 0, text.rindex("spec:"))  # the line of the pod spec's own key


def test_kinds_without_pod_specs_and_non_manifests_give_nothing() -> None:
    assert find_pod_specs("apiVersion: v1\nkind: Service\nspec:\n  containers: []\n") == []
    assert find_pod_specs("spec:\n  template:\n    spec:\n      containers: []\n") == []  # no apiVersion/kind
    assert find_pod_specs("kind: Pod\nspec:\n  containers: []\n") == []  # no apiVersion
    assert find_pod_specs("") == []


def test_list_items_and_nested_list_paths() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n"
        "  spec:\n    containers:\n    - {name: a, image: b}\n"
    )
    (spec,) = find_pod_specs(text)
    assert (spec.kind, spec.name, spec.path, spec.document) == ("Pod", "p", "items[1].spec", 0)


def test_multi_document_stream_with_empty_documents_end_markers_and_comments() -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {n}\nspec:\n" + _indent(CONTAINERS, 2)
    text = (
        "# leading comment\n"
        "---\n"
        "---\n" + pod.format(n="one") + "...\n"  # an empty document
        "---\n"
        "# only a comment in this one\n"
        "--- \n" + pod.format(n="two") + "---\n"
    )
    specs = find_pod_specs(text)
    assert [(s.name, s.document) for s in specs] == [("one", 1), ("two", 3)]
    assert len([c for c in split_documents(text) if c.index is not None]) == len(load_all(text))
    lines = text.splitlines()
    for spec in specs:
        assert lines[spec.line] == "spec:"


def test_keys_in_any_order_kind_last() -> None:
    text = (
        "spec:\n  template:\n    spec:\n" + _indent(CONTAINERS, 6) + "kind: Deployment\napiVersion: apps/v1\n"
    )
    (spec,) = find_pod_specs(text)
    assert spec.kind == "Deployment" and spec.line == 2


def test_block_scalars_with_yaml_looking_text_are_not_structure() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  pod.yaml: |\n    apiVersion: v1\n    kind: Pod\n"
        "    spec:\n      containers:\n      - name: fake\n        image: gcr.io/distroless/static\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    note: |\n      spec:\n"
        "        hostPID: true\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: real\n    image: nginx\n    args:\n"
        "    - |\n      ---\n      kind: Pod\n"
    )
    specs = find_pod_specs(text)
    assert [(s.name, [c.name for c in s.containers], s.host_pid) for s in specs] == [(None, ["real"], None)]


def test_anchors_aliases_and_merge_keys_are_followed_for_reading() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    metadata:\n      labels: &labels\n"
        "        app: web\n    spec:\n      containers:\n      - &app\n        name: app\n"
        "        image: nginx\n"
        "      - <<: *app\n        name: copy\n      - *app\n"
        "  selector:\n    matchLabels: *labels\n"
    )
    (spec,) = find_pod_specs(text)
    assert [(c.name, c.image) for c in spec.containers] == [
        ("app", "nginx"),
        ("copy", "nginx"),
        ("app", "nginx"),
    ]
    assert spec.selector == {"matchLabels": {"app": "web"}}
    assert spec.template_labels == {"app": "web"}
    assert spec.containers[1].image_range is None  # the image is written for another container
    alias_range = spec.containers[2].name_range
    assert alias_range is not None and alias_range.start.line == 14  # the `*app` alias itself


def test_pod_spec_through_an_alias_is_reported_but_marked_shared() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  spec: &spec\n    containers:\n    - {name: a, image: b}\n"
        "- apiVersion: v1\n  kind: Pod\n  spec: *spec\n"
    )
    specs = find_pod_specs(text)
    assert [s.shared for s in specs] == [None, "the pod spec comes from a YAML alias or merge key"]


def test_alias_bomb_is_not_expanded() -> None:
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    bomb: *a11\n"
        + "\n".join(bomb)
        + "\nspec:\n  containers:\n  - name: app\n    image: nginx\n"
    )
    (spec,) = find_pod_specs(text)
    assert spec.containers[0].name == "app"
    # Reading the labels follows the alias, within a node budget: a bounded, partial answer.
    assert "bomb" in spec.template_labels
    assert _size(spec.template_labels) <= 20_000
    tree = parse_tree(text)
    assert isinstance(tree.anchors["a11"], Seq)
    assert all(isinstance(item, Alias) for item in tree.anchors["a11"].items)
    assert _nodes(tree.root) < 200  # one node per alias as written; expanded it would be 9**12


def _nodes(node: Node | None) -> int:
    if isinstance(node, Map):
        return 1 + sum(_nodes(k) + _nodes(v) for k, v in node.pairs)
    if isinstance(node, Seq):
        return 1 + sum(_nodes(item) for item in node.items)
    return 1


def _size(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1


def test_duplicate_keys_last_one_wins_like_pyyaml() -> None:
    text = (
        "apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - {name: envoy, image: envoy}\n      containers:\n      - {name: nginx, image: nginx}\n"
    )
    (spec,) = find_pod_specs(text)
    assert [c.name for c in spec.containers] == ["nginx"]
    assert load_all(text)[0]["spec"]["template"]["spec"]["containers"][0]["name"] == "nginx"


def test_json_manifest_with_tab_indentation() -> None:
    text = (
        '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"spec": {\n\t\t"containers": [\n'
        '\t\t\t{"name": "a", "image": "b"}\n\t\t]\n\t}\n}\n'
    )
    (spec,) = find_pod_specs(text)
    assert (spec.path, spec.line, spec.containers[0].line) == ("spec", 3, 5)


def test_native_sidecars_and_init_containers() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - name: init\n    image: busybox\n"
        "  - name: proxy\n    image: envoy\n    restartPolicy: Always\n"
        "  containers:\n  - name: app\n    image: app\n"
    )
    (spec,) = find_pod_specs(text)
    assert [(c.name, c.init, c.sidecar, c.line) for c in spec.containers] == [
        ("init", True, False, 4),
        ("proxy", True, True, 6),
        ("app", False, False, 10),
    ]


def test_helm_templates_give_a_parse_error_or_nothing_never_a_crash() -> None:
    text = (
        "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        "  name: {{ .Values.name }}\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - name: app\n        image: {{ .Values.image }}\n{{- end }}\n"
    )
    scan = scan_document(text)
    assert scan.template and (scan.error is not None or scan.pods == [])
    parsed = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: {{ .Values.image }}\n"
    )
    (spec,) = find_pod_specs(parsed)  # valid YAML after all: the image is a mapping, not a string
    assert spec.containers[0].image is None


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Pod\nspec: [\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: b\n",
        "apiVersion: v1\nkind: Pod\n\x00\x01binary",
        "apiVersion: v1\nkind: Pod\nspec: " + "[" * 5000 + "]" * 5000 + "\n",
        "apiVersion: v1\nkind: Pod\nspec: *missing\n",
        '{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [}\n',
        "\ufeffapiVersion: v1\nkind: Pod\nspec:\n  containers: []\n",
        "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: b\r\n",
    ],
)
def test_bad_input_never_crashes(text: str) -> None:
    scan = scan_document(text)
    assert scan.error is None or isinstance(scan.error, ParseError)
    find_pod_specs(text)


def test_deep_nesting_is_a_parse_error_not_a_recursion_error() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers: " + "[" * 3000 + "]" * 3000 + "\n"
    scan = scan_document(text)
    assert scan.error is not None and "nesting" in scan.error.message


def test_positions_count_characters_and_lsp_ranges_utf16() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ünïcode😀\nspec:\n  containers:\n"
        "  - name: 😀x\n    image: nginx\n"
    )
    (spec,) = find_pod_specs(text)
    rng = spec.containers[0].name_range
    assert rng is not None
    assert (rng.start.line, rng.start.character, rng.end.character) == (6, 10, 13)  # 😀 is two UTF-16 units


def test_tree_keeps_scalars_styles_and_offsets() -> None:
    text = "a: 'q'\nb: |\n  x\n\nc: plain\n"
    tree = parse_tree(text)
    assert isinstance(tree.root, Map)
    values = [v for _, v in tree.root.pairs]
    assert all(isinstance(v, Scalar) for v in values)
    assert [(v.value, v.style) for v in values if isinstance(v, Scalar)] == [
        ("q", "'"),
        ("x\n", "|"),
        ("plain", ""),
    ]
    q = values[0]
    assert text[q.start : q.end] == "'q'"


def test_split_documents_is_exact_about_markers() -> None:
    text = "a: 1\n---\nb: 2\n--- # comment\nc: 3\n----\nd: 4\n...\n"
    with pytest.raises(yaml.YAMLError):
        load_all(text)  # `----` is content, not a marker: PyYAML agrees it is not a new document
    chunks = split_documents("a: 1\n---\nb: 2\n--- # c\nc: 3\n")
    assert [(c.index, c.line, c.text) for c in chunks] == [
        (0, 0, "a: 1\n"),
        (1, 1, "---\nb: 2\n"),
        (2, 3, "--- # c\nc: 3\n"),
    ]
