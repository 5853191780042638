"""Hostile Dockerfiles over a real stdio `debugbox lsp`: bounded expansion still publishes diagnostics (#10 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lsp.conftest import EditorClient
from tests.unit.dockerfile.test_dockerfile_buildkit_rules import doubling

pytestmark = pytest.mark.lsp


async def test_doubling_file_publishes_the_limit_diagnostic(client: EditorClient, tmp_path: Path) -> None:
    uri = client.open(tmp_path / "Dockerfile", doubling(40))
    found = await client.diagnostics_for(uri, 1)
    assert [d.code for d in found] == ["DBX111"]
    assert "longer than 65,536 characters" in found[0].message


async def test_deeply_nested_defaults_publish_diagnostics(client: EditorClient, tmp_path: Path) -> None:
    nested = "${A:-" * 3000 + "alpine" + "}" * 3000
    text = f"FROM gcr.io/distroless/static\nENV B={nested}\nENV C\n"
    uri = client.open(tmp_path / "Dockerfile", text)
    found = await client.diagnostics_for(uri, 1)
    assert sorted(str(d.code) for d in found) == ["DBX101", "DBX110"]
