"""Kubernetes manifests in a VS Code-like editor over a real stdio connection to `debugbox lsp`.

Diagnostics for images without a shell, the two code actions offered exactly inside pod specs (as versioned
edits), the hostPID refusal, hover, and the `debugbox.addShareProcessNamespace` / `debugbox.addDebugSidecar`
commands with the `workspace/applyEdit` they send.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
import yaml
from debugbox.core.wire import Command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.conftest import FIXTURES
from tests.lsp.conftest import CONFIG, EditorClient, apply_text_edits, initialize_params, vscode_capabilities

pytestmark = pytest.mark.lsp

SHARE_PID = Command.ADD_SHARE_PROCESS_NAMESPACE.value
SIDECAR = Command.ADD_DEBUG_SIDECAR.value

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      serviceAccountName: api
      containers:
      - name: api
        image: gcr.io/distroless/static-debian12:nonroot
---
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  hostPID: true
  containers:
  - name: agent
    image: alpine:3.20
"""
SPEC_LINE, INSIDE, HOSTPID_LINE = 10, 12, 21


def at(line: int, char: int = 0, end_line: int | None = None) -> lsp.Range:
    return lsp.Range(lsp.Position(line, char), lsp.Position(line if end_line is None else end_line, char))


async def listed(client: EditorClient, uri: str, rng: lsp.Range) -> list[lsp.CodeAction]:
    """The code actions as the editor lists them (a deferred one without its edit)."""
    result = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    found = list(result or [])
    assert all(isinstance(a, lsp.CodeAction) for a in found)
    return found  # type: ignore[return-value]


async def actions(client: EditorClient, uri: str, rng: lsp.Range) -> list[lsp.CodeAction]:
    """The code actions, each as the editor has it once chosen (resolved)."""
    return [await client.choose(a) for a in await listed(client, uri, rng)]


async def command(client: EditorClient, name: str, **args: Any) -> Any:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=name, arguments=[args])
    )


def only_edit(edit: lsp.WorkspaceEdit | None) -> lsp.TextDocumentEdit:
    assert edit is not None and edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, lsp.TextDocumentEdit)
    return change


async def open_manifest(client: EditorClient, tmp_path: Path, text: str = DEPLOY) -> str:
    uri = client.open(tmp_path / "deploy.yaml", text, language_id="yaml")
    await client.diagnostics_for(uri, 1)
    return uri


async def test_no_shell_diagnostic_on_open(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "deploy.yaml", DEPLOY, language_id="yaml")
    (diag,) = await client.diagnostics_for(uri, 1)
    assert diag.code == "DBX200" and diag.source == "debugbox"
    assert diag.severity == lsp.DiagnosticSeverity.Information
    assert diag.range.start == lsp.Position(14, 15)
    assert "kubectl exec" in diag.message and "kubectl debug" in diag.message


async def test_other_yaml_gets_no_diagnostics_and_no_actions(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "values.yaml", "image:\n  repository: nginx\nspec: {}\n", language_id="yaml")
    assert await actions(client, uri, at(1, 2)) == []  # awaits the analysis of version 1
    # A later version that is a manifest is published; the server's messages arrive in order, so anything
    # it sent for version 1 (even an empty list) is in by then.
    client.replace(uri, DEPLOY)
    assert [d.code for d in await client.diagnostics_for(uri, 2)] == ["DBX200"]
    assert [p.version for p in client.published if p.uri == uri] == [2]


async def test_actions_offered_exactly_inside_pod_specs(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    for line in (SPEC_LINE, INSIDE, 14):
        titles = [a.title for a in await actions(client, uri, at(line, 2))]
        assert len(titles) == 3 and titles[0].startswith("Add shareProcessNamespace: true"), line
        assert titles[1].startswith("…or debug now without restarting")
        assert titles[2] == "Add debug sidecar container (development only)"
    for line in (0, 4, 8, 15):
        assert await actions(client, uri, at(line, 1)) == [], line
    assert await actions(client, uri, at(0, 0, 24)) == []  # select-all is not "inside a pod spec"


async def test_edits_are_listed_unchecked_and_checked_when_chosen(
    client: EditorClient, tmp_path: Path
) -> None:
    """VS Code resolves a chosen code action: the verification (loading the whole document twice) is left to
    that moment where it cannot refuse, so listing stays fast on every cursor move."""
    uri = await open_manifest(client, tmp_path)
    spn, _now, sidecar = await listed(client, uri, at(INSIDE, 6))
    for action in (spn, sidecar):
        assert action.edit is None and action.disabled is None and action.data is not None, action
        chosen = await client.choose(action)
        assert chosen.title == action.title and only_edit(chosen.edit).text_document.version == 1
    new = apply_text_edits(DEPLOY, list(only_edit((await client.choose(sidecar)).edit).edits))  # type: ignore[arg-type]
    spec = next(yaml.safe_load_all(new))["spec"]["template"]["spec"]
    assert spec["shareProcessNamespace"] is True and spec["containers"][-1]["name"] == "debug"


async def test_resolving_after_the_document_changed_gives_no_edit_and_says_why(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(client, tmp_path)
    spn = (await listed(client, uri, at(INSIDE, 6)))[0]
    client.replace(uri, DEPLOY.replace("serviceAccountName: api", "serviceAccountName: web"))
    await client.diagnostics_for(uri, 2)
    chosen = await client.choose(spn)
    assert chosen.edit is None
    said = await client.wait_for(
        lambda: [m for m in client.messages if "document changed" in m.message] or None
    )
    assert said[0].type == lsp.MessageType.Warning and said[0].message.startswith(spn.title)


@pytest.mark.parametrize(
    "data",
    [
        {"debugbox.deferredEdit": {"uri": "URI", "version": 1, "range": [-1, 0, 0, 0]}},
        {"debugbox.deferredEdit": {"uri": "URI", "version": "1", "range": [12, 6, 12, 6]}},
        {"debugbox.deferredEdit": {"uri": "URI", "version": 1, "range": [12, 6, 12]}},
        {"debugbox.deferredEdit": {"uri": 7, "version": 1, "range": [12, 6, 12, 6]}},
        {"debugbox.deferredEdit": ["URI", 1]},
        {"other": 1},
        "debugbox.deferredEdit",
    ],
)
async def test_resolve_reads_the_clients_data_as_untrusted(
    client: EditorClient, tmp_path: Path, data: Any
) -> None:
    uri = await open_manifest(client, tmp_path)
    data = yaml.safe_load(yaml.safe_dump(data).replace("URI", uri))
    action = lsp.CodeAction(title="Add debug sidecar container (development only)", data=data)
    assert (await client.code_action_resolve_async(action)).edit is None
    # Not read as ours at all: no analysis was asked, so nothing was said about the document either (a warning
    # would come before the answer).
    assert [m.message for m in client.messages if m.message.startswith(action.title)] == []


async def test_a_link_made_between_listing_and_picking_gets_no_edit_and_says_why(
    client: EditorClient, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The edit's destination is judged again when it is picked: a manifest replaced by a link leaving the
    workspace after the list was shown gets no edit (the editor would save through it)."""
    uri = await open_manifest(client, tmp_path)
    spn = (await listed(client, uri, at(INSIDE, 6)))[0]
    victim = tmp_path_factory.mktemp("outside") / "deploy.yaml"
    victim.write_text(DEPLOY)
    (tmp_path / "deploy.yaml").symlink_to(victim)
    assert (await client.choose(spn)).edit is None
    said = await client.wait_for(
        lambda: [m for m in client.messages if m.message.startswith(spn.title)] or None
    )
    assert "outside" in said[0].message and said[0].type == lsp.MessageType.Warning, said
    assert victim.read_text() == DEPLOY


async def test_resolving_a_title_no_longer_offered_there_says_so(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(client, tmp_path)
    sidecar = (await listed(client, uri, at(INSIDE, 6)))[2]
    moved = lsp.CodeAction(
        title=sidecar.title, kind=sidecar.kind, data=yaml.safe_load(yaml.safe_dump(sidecar.data))
    )
    moved.data["debugbox.deferredEdit"]["range"] = [0, 0, 0, 0]  # not inside a pod spec
    assert (await client.choose(moved)).edit is None
    await client.wait_for(
        lambda: [m for m in client.messages if "no longer offered here" in m.message] or None
    )


@pytest_lsp.fixture(config=CONFIG)
async def unresolving(lsp_client: EditorClient, tmp_path: Path) -> Any:
    """VS Code's capabilities without `codeAction.resolveSupport`: an editor that takes actions as listed."""
    caps = vscode_capabilities()
    assert caps.text_document is not None and caps.text_document.code_action is not None
    caps.text_document.code_action.resolve_support = None
    await lsp_client.initialize_session(initialize_params(tmp_path, caps))
    yield
    await lsp_client.shutdown_session()


async def test_a_client_that_does_not_resolve_gets_checked_edits_in_the_list(
    unresolving: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(unresolving, tmp_path)
    spn, _now, sidecar = await listed(unresolving, uri, at(INSIDE, 6))
    assert spn.data is None and sidecar.data is None
    assert only_edit(spn.edit).text_document.version == 1 and only_edit(sidecar.edit).edits


async def test_share_pid_action_is_a_versioned_one_line_edit(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    action = (await actions(client, uri, at(INSIDE, 6)))[0]
    change = only_edit(action.edit)
    assert change.text_document.uri == uri and change.text_document.version == 1
    new = apply_text_edits(DEPLOY, list(change.edits))  # type: ignore[arg-type]
    assert new == DEPLOY.replace(
        "      serviceAccountName: api\n",
        "      serviceAccountName: api\n      shareProcessNamespace: true\n",
    )
    assert await client.workspace_apply_edit_async_local(action.edit)  # type: ignore[arg-type]
    assert client.documents[uri] == (2, new)
    assert [d.code for d in await client.diagnostics_for(uri, 2)] == ["DBX200"]
    titles = [a.title for a in await actions(client, uri, at(INSIDE, 6))]
    assert titles == ["Add debug sidecar container (development only)"]


async def test_actions_after_a_change_are_for_the_new_version(client: EditorClient, tmp_path: Path) -> None:
    # The server, not the editor, must stamp each edit with the version it analysed and place it in that text:
    # an action computed before the change (version 1) and one computed after it (version 2, one line lower).
    uri = await open_manifest(client, tmp_path)
    before = only_edit((await actions(client, uri, at(INSIDE, 6)))[0].edit)
    edited = "# edited meanwhile\n" + DEPLOY
    assert client.replace(uri, edited) == 2
    after = only_edit((await actions(client, uri, at(INSIDE + 1, 6)))[0].edit)

    assert before.text_document.version == 1 and after.text_document.version == 2
    new = apply_text_edits(edited, list(after.edits))  # type: ignore[arg-type]
    assert new == edited.replace(
        "      serviceAccountName: api\n",
        "      serviceAccountName: api\n      shareProcessNamespace: true\n",
    )
    assert await actions(client, uri, at(16, 1)) == []  # the `---` line, one lower


async def test_host_pid_pod_gets_the_action_disabled_with_the_reason(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(client, tmp_path)
    spn, debug_now, sidecar = await actions(client, uri, at(HOSTPID_LINE, 3))
    assert debug_now.command is not None and debug_now.command.command == "debugbox.openDebugTerminal"
    assert spn.edit is None and spn.disabled is not None and "hostPID" in spn.disabled.reason
    assert sidecar.disabled is None and sidecar.edit is not None


async def test_sidecar_action_adds_the_container_and_shares_processes(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(client, tmp_path)
    sidecar = (await actions(client, uri, at(SPEC_LINE, 4)))[2]
    new = apply_text_edits(DEPLOY, list(only_edit(sidecar.edit).edits))  # type: ignore[arg-type]
    spec = next(yaml.safe_load_all(new))["spec"]["template"]["spec"]
    assert spec["shareProcessNamespace"] is True
    assert spec["containers"][-1] == {
        "name": "debug",
        "image": "nicolaka/netshoot",
        "stdin": True,
        "tty": True,
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    }


async def test_hover_on_image_tells_how_to_debug(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(14, 20))
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert (
        "distroless" in hover.contents.value
        and "kubectl debug -it <pod> --target=api" in hover.contents.value
    )


async def test_command_share_pid_for_the_whole_file(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    result = await command(client, SHARE_PID, uri=uri)
    assert result["applied"] is True
    assert result["changed"] == ["document 0: Deployment api (spec.template.spec)"]
    assert len(result["refused"]) == 1 and "hostPID" in result["refused"][0]
    (params,) = client.applied_edits
    assert only_edit(params.edit).text_document.version == 1
    version, text = client.documents[uri]
    assert version == 2 and text.count("shareProcessNamespace: true") == 1


async def test_command_share_pid_refused_for_host_pid(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    result = await command(client, SHARE_PID, uri=uri, line=HOSTPID_LINE)
    assert result["applied"] is False and "hostPID" in result["refused"][0]
    assert client.applied_edits == []


async def test_command_sidecar_at_a_line(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path)
    result = await command(client, SIDECAR, uri=uri, line=INSIDE)
    assert result["applied"] is True and result["changed"] == [
        "document 0: Deployment api (spec.template.spec): container debug"
    ]
    _, text = client.documents[uri]
    spec = next(yaml.safe_load_all(text))["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["api", "debug"]


async def test_command_on_a_file_that_is_not_open(client: EditorClient, tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - {name: a, image: b}\n")
    result = await command(client, SHARE_PID, uri=path.as_uri())
    assert result["applied"] is True
    assert path.read_text() == "apiVersion: v1\nkind: Pod\nspec:\n  shareProcessNamespace: true\n" + (
        "  containers:\n  - {name: a, image: b}\n"
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (SHARE_PID, {"uri": 5}),
        (SHARE_PID, {"uri": "file:///x/deploy.yaml", "line": -1}),
        (SIDECAR, {"uri": "file:///x/deploy.yaml"}),
        (SHARE_PID, {"uri": "file:///nowhere/missing.yaml"}),
    ],
)
async def test_bad_arguments_get_a_clear_error(
    client: EditorClient, tmp_path: Path, name: str, args: dict[str, Any]
) -> None:
    with pytest.raises(JsonRpcException) as info:
        await command(client, name, **args)
    assert name in str(info.value)


SHARED_SPEC = (FIXTURES / "k8s" / "anchored-pod-spec.yaml").read_text(encoding="utf-8")
MERGED = (FIXTURES / "k8s" / "merge-key-shared.yaml").read_text(encoding="utf-8")


async def test_anchored_pod_spec_refused_naming_the_alias_unless_every_pod_is_asked_for(
    client: EditorClient, tmp_path: Path
) -> None:
    uri = await open_manifest(client, tmp_path, SHARED_SPEC)
    # Checked while listing, though this client resolves: near YAML sharing the refusal shows before a pick.
    spn = (await listed(client, uri, at(7, 4)))[0]
    assert spn.edit is None and spn.data is None
    assert spn.disabled is not None and "alias *spec" in spn.disabled.reason
    one = await command(client, SHARE_PID, uri=uri, line=7)
    assert one["applied"] is False and "alias *spec" in one["refused"][0]
    side = await command(client, SIDECAR, uri=uri, line=7)
    assert side["applied"] is False and "alias *spec" in side["refused"][0]
    assert client.applied_edits == []
    every = await command(client, SHARE_PID, uri=uri)
    assert every["applied"] is True and len(every["changed"]) == 2
    _, text = client.documents[uri]
    assert [item["spec"]["shareProcessNamespace"] for item in yaml.safe_load(text)["items"]] == [True, True]


async def test_merge_key_quick_fix_changes_only_its_own_pod(client: EditorClient, tmp_path: Path) -> None:
    uri = await open_manifest(client, tmp_path, MERGED)
    spn = (await actions(client, uri, at(8, 4)))[0]
    new = apply_text_edits(MERGED, list(only_edit(spn.edit).edits))  # type: ignore[arg-type]
    items = yaml.safe_load(new)["items"]
    assert [item["spec"]["shareProcessNamespace"] for item in items] == [True, False]


async def test_edits_land_on_their_line_with_bare_cr_and_nel(client: EditorClient, tmp_path: Path) -> None:
    text = (
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations: {note: "a\x85b"}\n# one\r# two\r'
        "spec:\n  restartPolicy: Always\n  containers:\n  - name: app\n    image: nginx\n"
    )
    uri = await open_manifest(client, tmp_path, text)
    result = await command(client, SHARE_PID, uri=uri, line=8)
    assert result["applied"] is True, result
    _, new = client.documents[uri]
    assert new == text.replace("Always\n", "Always\n  shareProcessNamespace: true\n")


async def test_verifying_an_edit_in_a_huge_list_does_not_hold_up_other_requests(
    client: EditorClient, tmp_path: Path
) -> None:
    # Verifying an edit loads the whole YAML document: for a List of 3,000 pods that takes a while, and it
    # runs beside the event loop, so a hover asked for after the code actions is answered first.
    pod = (
        "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p{i}}}\n  spec:\n    containers:\n"
        "    - name: app\n      image: gcr.io/distroless/static-debian12\n"
    )
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(pod.format(i=i) for i in range(3000))
    uri = client.open(tmp_path / "big.yaml", text, language_id="yaml")
    await client.diagnostics_for(uri, 1)
    order: list[str] = []

    async def code_actions() -> None:
        found = await actions(client, uri, at(3 + 7 * 1500 + 5, 6))
        assert found and found[0].edit is not None
        order.append("codeAction")

    async def hover() -> None:
        await client.text_document_hover_async(
            lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(8, 8))
        )
        order.append("hover")

    first = asyncio.create_task(code_actions())
    await asyncio.sleep(0)  # the code-action request goes out first
    await asyncio.gather(first, hover())
    assert order == ["hover", "codeAction"]
