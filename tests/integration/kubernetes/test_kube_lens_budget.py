"""#10 §6: the pod lenses' cluster requests are bounded and shared, over a real stdio LSP connection to the
server and the real Python client against the fake API server (which records every request).

A manifest naming 300 namespaces costs one pod LIST for each of the first `MAX_NAMESPACES` namespaces per
refresh (shared with every other open manifest naming them); the other workloads' lenses say why they are not
polled. In an untrusted workspace only the context's own namespace is asked about.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.targets.poll_budget import MAX_NAMESPACES
from lsprotocol import types as lsp

from tests.fakes.kube_apiserver import FakeKubeAPIServer
from tests.integration.kubernetes.test_kube_lsp import CONFIG, KUBECONFIG
from tests.lsp.conftest import EditorClient, initialize_params, vscode_capabilities

pytestmark = pytest.mark.kubernetes

APP = {"name": "app", "image": "gcr.io/distroless/static"}
OPTIONS = {"toolboxImage": "busybox:1.36", "kubernetes": {"timeoutSeconds": 2.0}}


def deployments(namespaces: list[str], prefix: str = "w") -> str:
    return "---\n".join(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {prefix}{i}, namespace: {ns}}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: {prefix}{i}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {prefix}{i}}}}}\n"
        f"    spec:\n      containers:\n        - name: app\n          image: gcr.io/distroless/static\n"
        for i, ns in enumerate(namespaces)
    )


@pytest.fixture
def cluster(kubectl_path: Path) -> Iterator[FakeKubeAPIServer]:
    fake = FakeKubeAPIServer().start()
    fake.write_kubeconfig(KUBECONFIG)  # context namespace: default
    yield fake
    fake.stop()
    assert not fake.errors


@pytest_lsp.fixture(config=CONFIG)
async def trusted(
    lsp_client: EditorClient, tmp_path: Path, cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        initialize_params(tmp_path, vscode_capabilities(), {"settings": OPTIONS})
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def untrusted(
    lsp_client: EditorClient, tmp_path: Path, cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    options = {
        "settings": OPTIONS,
        "workspaceTrusted": False,
    }  # what the VS Code extension sends in Restricted Mode
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield
    await lsp_client.shutdown_session()


async def _lenses_until(editor: EditorClient, uri: str, done: Any) -> list[lsp.CodeLens]:
    params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    lenses: list[lsp.CodeLens] = []
    for _ in range(80):  # the first request starts the watch; lenses come after its refresh
        lenses = await asyncio.wait_for(editor.text_document_code_lens_async(params), 20) or []
        if done(lenses):
            return lenses
        await asyncio.sleep(0.25)
    raise AssertionError(f"lenses never settled: {_titles(lenses)}")


def _titles(lenses: list[lsp.CodeLens]) -> Counter[str]:
    return Counter(x.command.title for x in lenses if x.command)


def _pod_lists(fake: FakeKubeAPIServer) -> Counter[str]:
    return Counter(
        r.path.split("/")[4] for r in fake.requests if r.method == "GET" and r.path.endswith("/pods")
    )


async def test_a_manifest_naming_300_namespaces_costs_one_shared_list_per_namespace_up_to_the_cap(
    trusted: Any, tmp_path: Path, cluster: FakeKubeAPIServer
) -> None:
    editor: EditorClient = trusted
    namespaces = [f"ns-{i}" for i in range(300)]
    cluster.store.add_pod("w0-pod", "ns-0", [APP], labels={"app": "w0"})
    cluster.store.add_pod("w299-pod", "ns-299", [APP], labels={"app": "w299"})
    cluster.store.add_pod("other0-pod", "ns-0", [APP], labels={"app": "other0"})
    big = tmp_path / "flood.yaml"
    big.write_text(deployments(namespaces))
    small = tmp_path / "few.yaml"
    small.write_text(deployments(namespaces[:5], prefix="other"))  # the same namespaces, other workloads
    uri_big = editor.open(big, big.read_text(), language_id="yaml")
    uri_small = editor.open(small, small.read_text(), language_id="yaml")

    lenses = await _lenses_until(editor, uri_big, lambda ls: "Debug pod… (ephemeral)" in _titles(ls))
    small_lenses = await _lenses_until(editor, uri_small, lambda ls: "Debug pod… (ephemeral)" in _titles(ls))

    assert _titles(small_lenses) == Counter({"Debug pod… (ephemeral)": 1})  # other1-4: polled, no pods
    titles = _titles(lenses)
    assert titles["Debug pod… (ephemeral)"] == 1  # w0's pod in ns-0
    assert titles["Debug pod: not polled"] == 300 - MAX_NAMESPACES  # w299's pod is beyond the cap: not asked
    note = next(x.command for x in lenses if x.command and x.command.title == "Debug pod: not polled")
    assert note.command == "" and note.tooltip and f"more than {MAX_NAMESPACES} namespaces" in note.tooltip
    lists = _pod_lists(cluster)
    assert set(lists) == set(namespaces[:MAX_NAMESPACES])  # never ns-20 … ns-299
    # shared: every refresh lists each namespace once, whatever number of workloads and manifests name it
    assert len(set(lists.values())) == 1 and next(iter(lists.values())) <= 3
    assert not any(r.q("labelSelector") for r in cluster.requests if r.path.endswith("/pods"))


async def test_an_untrusted_workspace_polls_only_the_contexts_namespace(
    untrusted: Any, tmp_path: Path, cluster: FakeKubeAPIServer
) -> None:
    editor: EditorClient = untrusted
    cluster.store.add_pod("w0-pod", "default", [APP], labels={"app": "w0"})
    cluster.store.add_pod("w1-pod", "kube-system", [APP], labels={"app": "w1"})
    path = tmp_path / "app.yaml"
    path.write_text(deployments(["default", "kube-system"]))
    uri = editor.open(path, path.read_text(), language_id="yaml")

    lenses = await _lenses_until(editor, uri, lambda ls: len(ls) == 2)

    assert _titles(lenses) == Counter({"Debug pod… (ephemeral)": 1, "Debug pod: not polled": 1})
    note = next(x.command for x in lenses if x.command and x.command.title == "Debug pod: not polled")
    assert note.tooltip and "not trusted" in note.tooltip and "kube-system" in note.tooltip
    assert set(_pod_lists(cluster)) == {"default"}  # kube-system was never asked about
    assert not [r for r in cluster.requests if "kube-system" in r.path or "kube-system" in str(r.body)]
