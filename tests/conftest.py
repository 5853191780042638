"""Shared test plumbing: paths to fixtures and the shared corpus, and the skip-or-fail rule for real engines.

Tests that need something real (a Docker engine, Chromium, Neovim) call `require(ok, why)`. Locally a missing
piece skips the test; under the README's test command (`DEBUGBOX_REQUIRE_ALL=1`), which installs everything, it
fails instead, so a broken setup can never pass as skipped tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"


def _find_corpus() -> Path | None:
    env = os.environ.get("DEBUGBOX_CORPUS")
    candidates = [Path(env)] if env else []
    # The shared corpus lies beside the checkout (../shared/corpus) on the project's machines and in CI.
    candidates += [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus"]
    for c in candidates:
        if (c / "EXPECTED.tsv").is_file():
            return c
    return None


CORPUS = _find_corpus()


def _find_conformance() -> Path | None:
    """BuildKit's parser and lexer test data (`../shared/conformance/buildkit`, or `$DEBUGBOX_CONFORMANCE`)."""
    env = os.environ.get("DEBUGBOX_CONFORMANCE")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "conformance", ROOT.parent.parent / "shared" / "conformance"]
    for c in candidates:
        for root in (c, c / "buildkit"):
            if (root / "frontend" / "dockerfile" / "parser" / "testfiles").is_dir():
                return root
    return None


CONFORMANCE = _find_conformance()


def python_answer(code: str) -> Any:
    """What a fresh Python running `code` printed, as JSON; for tests of what a process imports. It runs without
    coverage: under the README's test command, coverage's subprocess patch (pyproject.toml `[tool.coverage.run]
    patch`) starts coverage in every Python process it finds `COVERAGE_PROCESS_CONFIG` (or `_START`) in, and
    coverage imports `inspect`, `ast` and `tokenize` itself."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def require(ok: bool, why: str) -> None:
    """Skip (or, under DEBUGBOX_REQUIRE_ALL=1, fail) the current test unless `ok`."""
    if ok:
        return
    if os.environ.get("DEBUGBOX_REQUIRE_ALL") == "1":
        pytest.fail(f"required for this run but missing: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def corpus() -> Path:
    require(CORPUS is not None, "the shared corpus (../shared/corpus) is not beside the checkout")
    assert CORPUS is not None
    return CORPUS


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The root of BuildKit's copied test data (holds `frontend/dockerfile/...`)."""
    require(
        CONFORMANCE is not None,
        "BuildKit's conformance data (../shared/conformance) is not beside the checkout",
    )
    assert CONFORMANCE is not None
    return CONFORMANCE
