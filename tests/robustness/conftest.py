"""Fixtures for the robustness tests: one real `debugbox lsp` process per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from robust_server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the whole module (as an editor keeps one), checked for health at the end."""
    workspace = tmp_path_factory.mktemp("workspace")
    srv = Server(workspace, tmp_path_factory.mktemp("logs"))
    try:
        yield srv
        srv.assert_healthy()
    finally:
        code = srv.stop()
    assert code == 0, f"the server exited with {code} after shutdown/exit: {srv.tail()}"
