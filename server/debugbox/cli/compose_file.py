"""Compose files on the command line: the analysis with the `build:` Dockerfiles read (shared by `inspect`,
`check` and `compose-sidecar`).

What is read is bounded like the editor's workspace folder: the current directory when the compose file is
inside it, else the compose file's own folder. A Dockerfile outside (after following links) is named in the
output (`why_not_read`), not read.
"""

from __future__ import annotations

import os
from pathlib import Path

from debugbox.core.compose.analysis import ComposeAnalysis, analyze
from debugbox.core.settings import Settings


def boundary(path: Path) -> Path:
    here = Path.cwd().resolve()
    folder = Path(os.path.abspath(path)).parent
    return here if folder.resolve().is_relative_to(here) else folder


def compose_analysis(path: Path, text: str, settings: Settings) -> tuple[ComposeAnalysis, dict[str, str]]:
    """The analysis of the compose file `path` (text `text`) and why a `build:` Dockerfile was not read."""
    from debugbox.edge.workspace import compose_inputs

    absolute = Path(os.path.abspath(path))
    read = compose_inputs(text, absolute, boundary(path))
    found = analyze(
        absolute.as_uri(), text, settings, None, read.dockerfiles, (), read.related, read.folder_name
    )
    return found, read.skipped
