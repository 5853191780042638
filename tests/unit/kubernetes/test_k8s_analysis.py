"""The language server's view of a manifest: diagnostics, code actions on ranges, hover, lenses, reuse."""

from __future__ import annotations

from debugbox.core.analysis import ActionContext
from debugbox.core.kubernetes.analysis import DEBUG_NOW_TITLE, NO_SHELL, SIDECAR_TITLE, SYNTAX, analyze
from debugbox.core.kubernetes.inspect import inspect_manifest
from debugbox.core.kubernetes.workloads import Workload
from debugbox.core.settings import Settings
from k8s_support import load_all
from lsprotocol import types as lsp

SETTINGS = Settings(toolbox_image="example.org/toolbox:1")
CTX = ActionContext(settings=SETTINGS, file_exists=lambda _uri: False)
URI = "file:///project/deploy.yaml"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: app
        image: gcr.io/distroless/static-debian12:nonroot
      - name: proxy
        image: nginx:1.27
"""
HOSTPID = """\
apiVersion: v1
kind: Pod
metadata:
  name: node-agent
spec:
  hostPID: true
  containers:
  - name: agent
    image: alpine:3.20
"""


def _range(line: int, char: int = 0, end_line: int | None = None, end_char: int | None = None) -> lsp.Range:
    return lsp.Range(
        lsp.Position(line, char), lsp.Position(line if end_line is None else end_line, end_char or char)
    )


def _apply(text: str, edits: tuple[lsp.TextEdit, ...] | list[lsp.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)

    def offset(p: lsp.Position) -> int:
        return sum(len(line) for line in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def test_no_shell_images_get_one_information_diagnostic_each() -> None:
    diags = analyze(URI, DEPLOY, SETTINGS).diagnostics()
    assert [(d.code, d.severity, d.range.start.line) for d in diags] == [
        (NO_SHELL, lsp.DiagnosticSeverity.Information, 15)
    ]
    (d,) = diags
    assert (d.range.start.character, d.range.end.character) == (
        15,
        15 + len("gcr.io/distroless/static-debian12:nonroot"),
    )
    assert "kubectl exec" in d.message and "kubectl debug -it <pod> -n shop --target=app" in d.message
    assert "example.org/toolbox:1" in d.message


def test_ordinary_manifests_and_other_yaml_are_silent() -> None:
    ordinary = DEPLOY.replace("gcr.io/distroless/static-debian12:nonroot", "python:3.12")
    assert analyze(URI, ordinary, SETTINGS).diagnostics() == []
    other = "name: CI\non:\n  push: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: [\n"
    assert analyze("file:///ci.yaml", other, SETTINGS).diagnostics() == []


def test_broken_manifest_gets_a_syntax_warning_but_templates_do_not() -> None:
    broken = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: b\n"
    (d,) = analyze(URI, broken, SETTINGS).diagnostics()
    assert d.code == SYNTAX and d.severity == lsp.DiagnosticSeverity.Warning and d.range.start.line == 5
    template = 'apiVersion: v1\nkind: Pod\nspec:\n{{- include "spec" . | nindent 2 }}\n'
    assert analyze(URI, template, SETTINGS).diagnostics() == []


def test_actions_inside_a_pod_spec_including_its_key_line() -> None:
    analysis = analyze(URI, DEPLOY, SETTINGS)
    for line in (11, 12, 14, 17):
        titles = [a.title for a in analysis.actions(_range(line, 4), CTX)]
        assert titles[0].startswith("Add shareProcessNamespace: true"), line
        assert titles[1] == DEBUG_NOW_TITLE and titles[2] == SIDECAR_TITLE, line
    for line in (0, 5, 8, 10):  # outside: metadata, the Deployment's own spec, the template's metadata
        assert analysis.actions(_range(line, 2), CTX) == [], line
    assert analysis.actions(_range(0, 0, 17, 20), CTX) == []  # a selection wider than the pod spec


def test_share_pid_action_edit_is_the_one_line() -> None:
    action = analyze(URI, DEPLOY, SETTINGS).actions(_range(14, 6), CTX)[0]
    assert action.disabled_reason is None
    assert "restarts the pods" in action.title
    new = _apply(DEPLOY, action.edits)
    assert new == DEPLOY.replace(
        "      serviceAccountName: web\n",
        "      serviceAccountName: web\n      shareProcessNamespace: true\n",
    )


def test_sidecar_action_uses_the_toolbox_setting() -> None:
    action = analyze(URI, DEPLOY, SETTINGS).actions(_range(14, 6), CTX)[2]
    spec = load_all(_apply(DEPLOY, action.edits))[0]["spec"]["template"]["spec"]
    assert spec["containers"][-1]["image"] == "example.org/toolbox:1"
    assert spec["shareProcessNamespace"] is True


def test_host_pid_action_is_disabled_with_the_reason() -> None:
    actions = analyze(URI, HOSTPID, SETTINGS).actions(_range(5, 3), CTX)
    spn = actions[0]
    assert spn.edits == () and spn.disabled_reason is not None and "hostPID" in spn.disabled_reason
    assert actions[1].title == DEBUG_NOW_TITLE  # an ephemeral container needs no shared namespace
    assert actions[2].title == SIDECAR_TITLE and actions[2].edits


def test_debug_now_action_opens_an_ephemeral_terminal_for_that_workload() -> None:
    action = analyze(URI, DEPLOY, SETTINGS).actions(_range(14, 6), CTX)[1]
    assert action.edits == () and action.command == "debugbox.openDebugTerminal"
    (args,) = action.arguments
    assert args["uri"] == URI and args["strategy"] == "ephemeral"
    # The workload travels typed (from this buffer), not as a `Kind/name` to look up again.
    workload = Workload.from_json(args["workload"])
    assert (workload.kind, workload.name, workload.namespace) == ("Deployment", "web", "shop")
    assert workload.selector is not None and workload.selector.to_query() == "app=web"
    assert workload.path == "spec.template.spec" and workload.document == 0


def test_already_shared_pod_offers_only_the_sidecar() -> None:
    text = HOSTPID.replace("hostPID: true", "shareProcessNamespace: true")
    assert [a.title for a in analyze(URI, text, SETTINGS).actions(_range(6), CTX)] == [SIDECAR_TITLE]


def test_hover_on_container_name_and_image() -> None:
    analysis = analyze(URI, DEPLOY, SETTINGS)
    hover = analysis.hover(lsp.Position(15, 20))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    text = hover.contents.value
    assert "distroless" in text and "Package manager | none" in text and "Shell | none" in text
    assert "kubectl debug -it <pod> -n shop --target=app --image=example.org/toolbox:1" in text
    name_hover = analysis.hover(lsp.Position(14, 16))
    assert name_hover is not None and name_hover.contents == hover.contents
    key_hover = analysis.hover(lsp.Position(15, 9))  # on `image:` itself
    assert key_hover is not None and key_hover.contents == hover.contents and key_hover.range == hover.range
    proxy = analysis.hover(lsp.Position(17, 16))
    assert proxy is not None and isinstance(proxy.contents, lsp.MarkupContent)
    assert "kubectl exec -it deployment/web -n shop -c proxy" in proxy.contents.value
    assert analysis.hover(lsp.Position(12, 10)) is None


def test_hover_on_the_pod_spec_key_explains_the_trade_offs() -> None:
    hover = analyze(URI, DEPLOY, SETTINGS).hover(lsp.Position(11, 5))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    text = hover.contents.value
    for phrase in ("PID 1", "processes", "environment", "restarted", "kubectl debug"):
        assert phrase in text, phrase


def test_lens_anchors_on_every_container_name_with_the_typed_workload() -> None:
    anchors = analyze(URI, DEPLOY, SETTINGS).lens_anchors()
    assert [(a.purpose, a.range.start.line, a.data["container"]) for a in anchors] == [
        ("k8s-container", 14, "app"),
        ("k8s-container", 16, "proxy"),
    ]
    data = anchors[0].data
    workload = Workload.from_json(data["workload"])
    assert (workload.kind, workload.name, workload.namespace) == ("Deployment", "web", "shop")
    assert data["workload"]["selector"] == {"matchLabels": {"app": "web"}}
    assert data["workload"]["templateLabels"] == {"app": "web"}
    assert data["image"] == "gcr.io/distroless/static-debian12:nonroot" and data["uri"] == URI


def test_a_change_reparses_only_the_changed_document() -> None:
    docs = [DEPLOY.replace("name: web", f"name: web{i}") for i in range(50)]
    text = "---\n".join(docs)
    first = analyze(URI, text, SETTINGS)
    first.diagnostics()
    docs[25] = docs[25].replace("serviceAccountName: web", "serviceAccountName: changed")
    second = analyze(URI, "---\n".join(docs), SETTINGS, previous=first)
    assert second.reused == 49
    assert len(second.diagnostics()) == 50
    # Inserting lines moves later documents: the reused results come out at their new lines.
    docs[10] = "# two new\n# lines\n" + docs[10]
    third = analyze(URI, "---\n".join(docs), SETTINGS, previous=second)
    assert third.reused == 49
    before = [d.range.start.line for d in second.diagnostics()]
    assert [d.range.start.line for d in third.diagnostics()] == before[:10] + [n + 2 for n in before[10:]]


def test_commands_share_pid_for_a_line_or_the_whole_file() -> None:
    text = DEPLOY + "---\n" + HOSTPID
    analysis = analyze(URI, text, SETTINGS)
    everything = analysis.share_pid(None)
    assert len(everything.edits) == 1 and len(everything.refused) == 1 and "hostPID" in everything.refused[0]
    one = analysis.share_pid(14)
    assert len(one.edits) == 1 and one.changed == ["document 0: Deployment web (spec.template.spec)"]
    assert analysis.share_pid(2).edits == []
    side = analysis.sidecar(24, "busybox")
    assert side.changed == ["document 1: Pod node-agent (spec): container debug"]


def test_inspect_schema() -> None:
    result = inspect_manifest(DEPLOY + "---\n" + HOSTPID + "---\nkind: [\n")
    assert result["kind"] == "kubernetes" and result["documents"] == 3
    assert result["errors"] == [{"line": 31, "message": result["errors"][0]["message"]}]
    assert result["pod_specs"][0] == {
        "document": 0,
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
        "path": "spec.template.spec",
        "line": 12,
        "share_process_namespace": None,
        "host_pid": None,
        "containers": [
            {"name": "app", "image": "gcr.io/distroless/static-debian12:nonroot", "line": 15, "init": False},
            {"name": "proxy", "image": "nginx:1.27", "line": 17, "init": False},
        ],
    }
    assert result["pod_specs"][1]["host_pid"] is True and result["pod_specs"][1]["document"] == 1
