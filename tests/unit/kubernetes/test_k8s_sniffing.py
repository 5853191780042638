"""What kubectl accepts must not hide pod specs: a UTF-8 byte order mark before `apiVersion:`, a quoted kind."""

from __future__ import annotations

import pytest
from debugbox.core.documents import DocumentKind, kind_of
from debugbox.core.kubernetes.analysis import analyze
from debugbox.core.kubernetes.pod_spec import find_pod_specs
from debugbox.core.settings import Settings
from k8s_support import load_all

DEPLOY = (
    "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
    "      containers:\n      - name: app\n        image: gcr.io/distroless/static-debian12\n"
)


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("kind", ["Deployment", '"Deployment"', "'Deployment'"])
def test_bom_and_quoted_kind_still_show_the_pod_spec(bom: str, kind: str) -> None:
    text = bom + DEPLOY.format(kind=kind)
    assert kind_of("file:///p/deploy.yaml", text) is DocumentKind.MANIFEST
    (spec,) = find_pod_specs(text)
    assert (spec.kind, spec.path, spec.line) == ("Deployment", "spec.template.spec", 6)
    analysis = analyze("file:///p/deploy.yaml", text, Settings())
    assert [d.code for d in analysis.diagnostics()] == ["DBX200"]  # the distroless image is seen
    new_text = text
    outcome = analysis.share_pid(None)
    assert outcome.changed == ["document 0: Deployment web (spec.template.spec)"]
    (edit,) = outcome.edits
    assert edit.range.start.line == 7 and edit.new_text == "      shareProcessNamespace: true\n"
    lines = new_text.splitlines(keepends=True)
    new_text = "".join(lines[:7]) + edit.new_text + "".join(lines[7:])
    assert new_text.startswith(bom + "apiVersion")
    assert load_all(new_text)[0]["spec"]["template"]["spec"]["shareProcessNamespace"] is True


def test_a_quoted_kind_that_holds_no_pod_spec_is_only_syntax_checked() -> None:
    text = '\ufeffapiVersion: v1\nkind: "Service"\nmetadata: {name: s}\n'
    assert kind_of("file:///p/svc.yaml", text) is DocumentKind.MANIFEST
    assert find_pod_specs(text) == []


def test_json_with_a_bom() -> None:
    text = '\ufeff{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a", "image": "b"}]}}'
    assert kind_of("file:///p/pod.json", text) is DocumentKind.MANIFEST
    assert [s.path for s in find_pod_specs(text)] == ["spec"]
