"""Main LSP suite: how the protocol layer schedules analyses, seen from outside through a probe analyser.

The server is the real one over stdio; only the Dockerfile analyser is replaced by `servers/probe_server.py`,
which numbers its calls, can be slowed down or made to fail, and reports its call number in its diagnostics
and code actions. That makes coalescing, caching and failure handling observable without timing anything.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig

from tests.lsp.conftest import EditorClient, initialize_params, make_editor_client, vscode_capabilities

pytestmark = pytest.mark.lsp

PROBE = ClientServerConfig(
    server_command=[sys.executable, str(Path(__file__).parent / "servers" / "probe_server.py")],
    client_factory=make_editor_client,
)


@pytest_lsp.fixture(config=PROBE)
async def probe(lsp_client: EditorClient, tmp_path: Path) -> Any:
    await lsp_client.initialize_session(initialize_params(tmp_path, vscode_capabilities()))
    yield
    await lsp_client.shutdown_session()


def analysis_number(diagnostics: list[lsp.Diagnostic]) -> tuple[int, int | None]:
    (diag,) = diagnostics
    match = re.match(r"analysis #(\d+) \(previous #(\d+|None)\)", diag.message)
    assert match, diag.message
    previous = None if match.group(2) == "None" else int(match.group(2))
    return int(match.group(1)), previous


async def action_titles(client: EditorClient, uri: str) -> list[str]:
    origin = lsp.Position(line=0, character=0)
    result = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=origin, end=origin),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    return [a.title for a in result or []]


async def test_rapid_changes_are_coalesced_and_the_latest_version_wins(
    probe: EditorClient, tmp_path: Path
) -> None:
    # Each analysis takes 300 ms; 200 changes arrive while the first one runs.
    uri = probe.open(tmp_path / "Dockerfile", "# SLEEP 300 v1\n")
    for n in range(2, 202):
        probe.replace(uri, f"# SLEEP 300 v{n}\n")

    final = await probe.diagnostics_for(uri, 201)

    number, previous = analysis_number(final)
    # Not 201 analyses: the one already running when the burst came, then the newest text (a slow machine may
    # squeeze in a few more between notifications, never one per change).
    assert number <= 5
    assert previous == number - 1  # the previous analysis of this URI was handed to the analyser
    assert "v201" in final[0].message
    versions = [p.version for p in probe.published if p.uri == uri]
    assert versions == sorted(versions) and versions[-1] == 201  # nothing stale published after the newest


async def test_requests_during_a_burst_are_all_answered(probe: EditorClient, tmp_path: Path) -> None:
    uri = probe.open(tmp_path / "Dockerfile", "# SLEEP 50 v1\n")
    pending = []
    for n in range(2, 202):
        probe.replace(uri, f"# SLEEP 50 v{n}\n")
        if n % 20 == 0:
            pending.append(asyncio.ensure_future(action_titles(probe, uri)))

    answers = await asyncio.wait_for(asyncio.gather(*pending), 60)

    assert len(answers) == 10 and all(len(a) == 1 for a in answers)
    # Each request is answered from an analysis of the document as it was when the request was handled: never
    # older than the change sent before it (the connection is ordered), versions never going back, and one
    # analysis per version however many requests asked for it.
    answered = [(int(a[0].split("#")[1].split(":")[0]), int(a[0].rsplit(" v", 1)[1])) for a in answers]
    asked = range(20, 202, 20)
    assert all(version >= n for (_, version), n in zip(answered, asked, strict=True)), answered
    assert [v for _, v in answered] == sorted(v for _, v in answered)
    assert len({number for number, _ in answered}) == len({version for _, version in answered}), answered
    final = await probe.diagnostics_for(uri, 201)
    assert "v201" in final[0].message


async def test_requests_reuse_the_analysis_of_the_current_version(
    probe: EditorClient, tmp_path: Path
) -> None:
    uri = probe.open(tmp_path / "Dockerfile", "# v1\n")
    published, _ = analysis_number(await probe.diagnostics_for(uri, 1))

    first = await action_titles(probe, uri)
    second = await action_titles(probe, uri)

    assert first == second == [f"analysis #{published}: # v1"]


async def test_a_failing_analyser_gives_no_results_and_the_server_carries_on(
    probe: EditorClient, tmp_path: Path
) -> None:
    uri = probe.open(tmp_path / "Dockerfile", "# RAISE\n")

    assert await probe.diagnostics_for(uri, 1) == []
    assert await action_titles(probe, uri) == []
    await probe.wait_for(lambda: any("told to fail" in m.message for m in probe.log_messages))

    probe.replace(uri, "# fine now\n")
    number, _ = analysis_number(await probe.diagnostics_for(uri, 2))
    assert number >= 2
    other = probe.open(tmp_path / "other.Dockerfile", "# another document\n")
    assert len(await probe.diagnostics_for(other, 1)) == 1


async def test_code_lenses_come_from_the_registered_providers(probe: EditorClient, tmp_path: Path) -> None:
    uri = probe.open(tmp_path / "Dockerfile", "# v1\n")
    number, _ = analysis_number(await probe.diagnostics_for(uri, 1))

    lenses = await probe.text_document_code_lens_async(
        lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )

    # The failing provider and the anchor nobody provides for contribute nothing; the good one still answers.
    assert [lens.command.title for lens in lenses or [] if lens.command] == [f"lens for analysis #{number}"]
    await probe.wait_for(lambda: any("broken lens provider failed" in m.message for m in probe.log_messages))
