"""`debugbox.copyToTarget` / `debugbox.copyFromTarget` on a pod over a real stdio LSP connection: the server asks
the editor before it adds a debug container (`window/showMessageRequest`), then copies through it, with real
kubectl against the docker-backed fake."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig

from tests.fakes.kube import FakeKubeAPIServer, ImageTable
from tests.integration.docker.engine import TOOLBOX
from tests.integration.kubernetes.conftest import DOCKER_IMAGES, KUBECTL
from tests.integration.kubernetes.test_kube_lsp import make_client
from tests.lsp.conftest import SERVER_COMMAND, EditorClient, initialize_params, vscode_capabilities

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

KUBECONFIG = Path(tempfile.mkdtemp(prefix="dbx-kube-data-lsp-")) / "config"
ADD = "Add the debug container"

CONFIG = ClientServerConfig(
    server_command=SERVER_COMMAND,
    client_factory=make_client,
    server_env={
        **os.environ,
        "KUBECONFIG": str(KUBECONFIG),
        "PATH": f"{KUBECTL.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    },
)


@pytest.fixture
def docker_cluster(kubectl_path: Path, test_images: None) -> Iterator[FakeKubeAPIServer]:
    fake = FakeKubeAPIServer(docker=True, images=ImageTable(DOCKER_IMAGES), pause_image=TOOLBOX).start()
    fake.write_kubeconfig(KUBECONFIG)
    try:
        fake.store.add_pod(
            "web", "default", [{"name": "app", "image": "example.com/distroless-app:1"}], docker=True
        )
        yield fake
    finally:
        fake.stop()
    assert not fake.errors


@pytest_lsp.fixture(config=CONFIG)
async def editor(
    lsp_client: EditorClient, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> AsyncIterator[None]:
    options = {"toolboxImage": "busybox:1.36", "kubernetes": {"namespace": "default"}}
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities(), options))
    yield
    await lsp_client.shutdown_session()


async def _command(client: EditorClient, name: str, args: dict[str, Any]) -> Any:
    params = lsp.ExecuteCommandParams(command=name, arguments=[args])
    return await asyncio.wait_for(client.workspace_execute_command_async(params), 120)


async def test_copy_to_and_from_a_pod_asks_before_adding_the_debug_container(
    editor: Any, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> None:
    data = os.urandom(256 * 1024) + "é\r\n".encode()
    src = tmp_path / "up load é.bin"
    src.write_bytes(data)
    up = {"target": "pod/web/app", "src": src.as_uri(), "path": "/www"}

    # The editor's answer is Cancel (no button): nothing is created, and the refusal says why.
    with pytest.raises(JsonRpcException, match="cannot be removed") as cancelled:
        await _command(editor, Command.COPY_TO_TARGET.value, up)
    assert cancelled.value.data == {"cancelled": True}  # the editor shows nothing for the user's own Cancel
    (question,) = editor.asked
    assert "ephemeral container debugbox-app" in question.message and "cannot be removed" in question.message
    assert [a.title for a in question.actions or []] == [ADD, "Cancel"]
    writes = [r for r in docker_cluster.requests if r.method == "PATCH" and not r.query.get("dryRun")]
    assert writes == []

    editor.choice = ADD
    result = await _command(editor, Command.COPY_TO_TARGET.value, up)
    assert result["files"] == 1 and result["bytes"] == len(data)
    # The new debug container's --target was checked at once, not watched for TARGET_CHECK_SECONDS.
    from debugbox.edge.kube_watch import POLL_SECONDS, TARGET_CHECK_SECONDS

    from tests.integration.kubernetes.test_kube_data import watched_before_checking

    assert watched_before_checking(docker_cluster) <= TARGET_CHECK_SECONDS / POLL_SECONDS / 2
    # Again: the file is there now, a refusal marked for the editor's "Replace?" question (not shown).
    with pytest.raises(JsonRpcException, match="exists in the target") as exists:
        await _command(editor, Command.COPY_TO_TARGET.value, up)
    assert exists.value.data == {"exists": True}

    down = tmp_path / "down.bin"
    pulled = {"target": "pod/web/app", "path": f"/www/{src.name}", "dest": down.as_uri()}
    result = await _command(editor, Command.COPY_FROM_TARGET.value, pulled)
    assert down.read_bytes() == data and result["bytes"] == len(data)
    assert len(editor.asked) == 2  # the second copy reused the running debug container without asking
    # A folder comes out through the same command (the debug container's tar, the containers' landing code).
    folder = tmp_path / "site"
    result = await _command(
        editor, Command.COPY_FROM_TARGET.value, {**pulled, "path": "/www", "dest": folder.as_uri()}
    )
    assert (result["files"], result["directories"], result["skipped"]) == (2, 1, [])
    assert (folder / src.name).read_bytes() == data
    # And a folder goes in through copyToTarget (debugbox's archive, the debug container's tar); never onto a
    # path that exists: a plain refusal, shown by the server, not the "Replace?" question of a file.
    tree = tmp_path / "tree"
    (tree / "empty").mkdir(parents=True)
    (tree / "a.bin").write_bytes(data)
    pushed = {"target": "pod/web/app", "src": tree.as_uri(), "path": "/"}
    result = await _command(editor, Command.COPY_TO_TARGET.value, pushed)
    assert (result["files"], result["directories"], result["bytes"]) == (1, 2, len(data))
    with pytest.raises(JsonRpcException, match="never merges into or replaces a folder") as onto:
        await _command(editor, Command.COPY_TO_TARGET.value, {**pushed, "force": True})
    assert onto.value.data != {"exists": True}
    back = tmp_path / "back"
    result = await _command(
        editor, Command.COPY_FROM_TARGET.value, {**pulled, "path": "/tree", "dest": back.as_uri()}
    )
    assert (back / "a.bin").read_bytes() == data and (back / "empty").is_dir()

    # The read-only file view reads the pod's files through the same (running) debug container.
    import base64

    from tests.integration.kubernetes.test_kube_data import FIXTURE_INDEX

    www = {"target": "pod/web/app", "path": "/www"}
    assert (await _command(editor, Command.STAT_TARGET_PATH.value, www))["type"] == "directory"
    listing = await _command(editor, Command.READ_TARGET_DIRECTORY.value, www)
    sizes = {e["name"]: (e["type"], e["size"]) for e in listing["entries"]}
    assert sizes == {"index.html": ("file", len(FIXTURE_INDEX)), src.name: ("file", len(data))}
    assert listing["truncated"] is False
    page = await _command(editor, Command.READ_TARGET_FILE.value, {**www, "path": "/www/index.html"})
    assert base64.b64decode(page["data"]) == FIXTURE_INDEX
    with pytest.raises(JsonRpcException, match="does not exist in the target"):
        await _command(editor, Command.STAT_TARGET_PATH.value, {**www, "path": "/nope"})
    with pytest.raises(JsonRpcException, match="is not a directory"):
        await _command(editor, Command.READ_TARGET_DIRECTORY.value, {**www, "path": "/www/index.html"})
    assert len(editor.asked) == 2  # still no new question: nothing more was added


async def test_a_cancelled_download_from_a_pod_ends_its_kubectl_and_leaves_nothing(
    editor: Any, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> None:
    """The editor's Cancel of a pod's download (`$/cancelRequest`): the copy stops, its kubectl exec is ended
    (no reader stays in the debug container), the partial file is removed, and only then the answer comes."""
    import subprocess
    import time

    app = docker_cluster.docker.container_name("default", "web", "app")
    sparse = tmp_path / "big"
    with sparse.open("wb") as f:
        f.truncate(1 << 30)  # 1 GiB: kubectl streams it far longer than the cancel takes
    subprocess.run(["docker", "cp", str(sparse), f"{app}:/big"], check=True, capture_output=True, timeout=300)
    sparse.unlink()
    editor.choice = ADD
    folder = tmp_path / "downloads"
    folder.mkdir()
    dest = folder / "big.bin"
    params = lsp.ExecuteCommandParams(
        command=Command.COPY_FROM_TARGET.value,
        arguments=[{"target": "pod/web/app", "path": "/big", "dest": dest.as_uri()}],
    )
    answer = asyncio.ensure_future(
        editor.protocol.send_request_async(lsp.WORKSPACE_EXECUTE_COMMAND, params, msg_id="pod-download")
    )
    deadline = time.monotonic() + 120
    while not (dest.exists() and dest.stat().st_size > 0):
        assert time.monotonic() < deadline, "the download never started writing"
        assert not answer.done(), answer.result()
        await asyncio.sleep(0.05)
    editor.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="pod-download"))
    with pytest.raises(JsonRpcException) as stopped:
        await asyncio.wait_for(answer, 60)
    assert stopped.value.data == {"cancelled": True}, stopped.value
    assert list(folder.iterdir()) == []
    debug = docker_cluster.docker.container_name("default", "web", "debugbox-app")

    def readers() -> list[str]:
        top = subprocess.run(["docker", "top", debug, "-o", "pid,args"], capture_output=True, text=True)
        return [line for line in top.stdout.splitlines() if "/big" in line]

    deadline = time.monotonic() + 30
    while readers():
        assert time.monotonic() < deadline, f"still reading in the debug container: {readers()}"
        await asyncio.sleep(0.2)


async def test_a_download_cancelled_while_the_pod_question_shows_adds_no_debug_container(
    editor: Any, tmp_path: Path, docker_cluster: FakeKubeAPIServer
) -> None:
    """The user cancels the download's progress while "Add the debug container?" is still open, then clicks
    Add: the copy was cancelled, so nothing is added to the pod (an ephemeral container can never be removed)."""
    dest = tmp_path / "page.html"
    params = lsp.ExecuteCommandParams(
        command=Command.COPY_FROM_TARGET.value,
        arguments=[{"target": "pod/web/app", "path": "/www/index.html", "dest": dest.as_uri()}],
    )
    editor.choice = ADD
    editor.on_ask = lambda _: editor.protocol.notify(
        lsp.CANCEL_REQUEST, lsp.CancelParams(id="asked-download")
    )
    with pytest.raises(JsonRpcException) as stopped:
        await asyncio.wait_for(
            editor.protocol.send_request_async(
                lsp.WORKSPACE_EXECUTE_COMMAND, params, msg_id="asked-download"
            ),
            120,
        )
    assert stopped.value.data == {"cancelled": True}, stopped.value
    assert len(editor.asked) == 1 and not dest.exists()
    writes = [r for r in docker_cluster.requests if r.method == "PATCH" and not r.query.get("dryRun")]
    assert writes == []
