"""`debugbox.cleanupCopies` over a real stdio LSP connection, against the fake API server through the real
kubernetes client (#13 §5: "Clean up debug copies" in any editor): it asks before deleting, deletes only the
labelled copies, and a refusal is one sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.deadlines import answers_within, within
from tests.fakes.kube_apiserver import FakeKubeAPIServer
from tests.integration.kubernetes.test_kube_lsp import CONFIG, KUBECONFIG, _command
from tests.lsp.conftest import EditorClient, initialize_params, vscode_capabilities

pytestmark = pytest.mark.kubernetes

TIMEOUT = 5.0

CLEANUP = Command.CLEANUP_COPIES.value
LABELS = {"debugbox.dev/created-by": "debugbox"}


@pytest.fixture
def cluster(kubectl_path: Path) -> Iterator[FakeKubeAPIServer]:
    fake = FakeKubeAPIServer().start()
    fake.write_kubeconfig(KUBECONFIG)
    fake.store.add_pod("web-1", "shop")
    fake.store.add_pod("web-1-debugbox", "shop", labels=LABELS)  # the copy
    fake.store.add_pod("web-2-debugbox", "shop")  # named like one, but not labelled: not ours
    fake.store.add_pod("api-debugbox", "other", labels=LABELS)  # another namespace: not asked about
    yield fake
    fake.stop()
    assert not fake.errors


@pytest_lsp.fixture(config=CONFIG)
async def editor(lsp_client: EditorClient, tmp_path: Path, cluster: FakeKubeAPIServer) -> AsyncIterator[None]:
    options = {"kubernetes": {"namespace": "shop", "timeoutSeconds": TIMEOUT}}
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield
    await lsp_client.shutdown_session()


def _pods(cluster: FakeKubeAPIServer) -> set[tuple[str, str]]:
    """The pods not being deleted (a scheduled pod stays, terminating, for its grace period as in a real one)."""
    return {key for key, pod in cluster.store.pods.items() if "deletionTimestamp" not in pod["metadata"]}


async def test_cancel_deletes_nothing_and_delete_removes_only_the_copy(
    editor: Any, cluster: FakeKubeAPIServer
) -> None:
    before = _pods(cluster)
    editor.choice = "Cancel"
    result = await _command(editor, CLEANUP, {})
    (asked,) = editor.asked
    assert (
        asked.message == "debugbox: Delete the debug copy in namespace shop (context fake): web-1-debugbox?"
    )
    assert [a.title for a in asked.actions] == ["Delete", "Cancel"]
    assert result == {"context": "fake", "namespace": "shop", "found": ["web-1-debugbox"], "deleted": []}
    assert _pods(cluster) == before and not cluster.requests_to("DELETE")

    editor.choice = "Delete"
    result = await _command(editor, CLEANUP, {"namespace": "shop"})
    assert result["deleted"] == ["web-1-debugbox"]
    assert _pods(cluster) == before - {("shop", "web-1-debugbox")}
    (request,) = cluster.requests_to("DELETE")
    assert request.path.endswith("/namespaces/shop/pods/web-1-debugbox")


async def test_nothing_found_says_so_and_asks_nothing(editor: Any, cluster: FakeKubeAPIServer) -> None:
    result = await _command(editor, CLEANUP, {"namespace": "empty"})
    assert result["found"] == [] and result["deleted"] == []
    assert not editor.asked and not cluster.requests_to("DELETE")
    message = await editor.wait_for(
        lambda: next((m for m in editor.messages if "no debug copies" in m.message), None), 10
    )
    assert message.message == "debugbox: no debug copies in namespace empty (context fake)"


async def test_an_rbac_denial_of_delete_is_one_sentence(editor: Any, cluster: FakeKubeAPIServer) -> None:
    cluster.rbac.allow("alice", ["get", "list"], ["pods"], namespaces=["shop"])
    cluster.write_kubeconfig(KUBECONFIG, user="alice")
    editor.choice = "Delete"
    with pytest.raises(JsonRpcException) as raised:
        await _command(editor, CLEANUP, {})
    message = await _error_message(editor)
    assert "delete" in message and "web-1-debugbox" in message, message
    # The same sentence fails the request, after the command's name, marked as shown: an editor that reports
    # failed commands itself does not say it twice.
    assert raised.value.message == f"{CLEANUP}: {message}" and raised.value.data == {"shown": True}
    assert [m for m in editor.messages if m.type == lsp.MessageType.Error] != [] and not any(
        CLEANUP in m.message for m in editor.messages
    )
    assert ("shop", "web-1-debugbox") in _pods(cluster)


async def test_an_unreachable_cluster_is_one_sentence_within_the_timeout(
    editor: Any, cluster: FakeKubeAPIServer
) -> None:
    cluster.stop()
    with pytest.raises(JsonRpcException):
        await answers_within(within(TIMEOUT), _command(editor, CLEANUP, {}))
    message = await _error_message(editor)
    assert "fake" in message, message  # names the cluster it could not reach
    assert not editor.asked


async def _error_message(editor: Any) -> str:
    """The one error message shown: a single line, no traceback."""
    message = await editor.wait_for(
        lambda: next((m for m in editor.messages if m.type == lsp.MessageType.Error), None), 10
    )
    text = str(message.message)
    assert text.startswith("debugbox: ") and "\n" not in text.strip() and "Traceback" not in text, text
    return text.removeprefix("debugbox: ")
