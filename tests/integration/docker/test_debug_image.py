"""The Dockerfile.debug that debugbox generates for a distroless application, built and run on the real
engine.

The application image is the distroless-like `distroless-nonroot:test` (no shell, USER 65532); the tools image
is the local `toolbox:test` (no registry here). The built debug image must give a shell with the tools, beside
the application's own files.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from debugbox.core.dockerfile.debug_image import render_debug_dockerfile
from debugbox.core.settings import DebugImageSettings, Settings

from tests.integration.docker.engine import NONROOT, TOOLBOX, docker, unique_name

pytestmark = pytest.mark.docker

APP_DOCKERFILE = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /httpd .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /httpd /httpd
USER 65532
ENTRYPOINT ["/httpd"]
"""


@pytest.fixture
def debug_tag(images: None) -> Iterator[str]:
    tag = f"{unique_name()}:debug"
    yield tag
    docker("rmi", "-f", tag, check=False)


def test_generated_dockerfile_debug_builds_and_gives_a_shell_with_tools_and_app_files(
    debug_tag: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(Settings(), debug_image=DebugImageSettings(tools_image=TOOLBOX))
    text = render_debug_dockerfile(APP_DOCKERFILE, settings=settings, app_image=NONROOT, folder_name="app")
    assert f"ARG APP_IMAGE={NONROOT}" in text and f"FROM {TOOLBOX} AS debug-tools" in text
    (tmp_path / "Dockerfile.debug").write_text(text)

    docker(
        "build", "-q", "-t", debug_tag, "-f", str(tmp_path / "Dockerfile.debug"), str(tmp_path), timeout=300
    )
    proc = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            debug_tag,
            "-c",
            "id -u; ls /; cat /www/index.html; which wget nslookup ps",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "0"  # the debug image runs as root so tcpdump/strace-like tools work
    assert {"httpd", "www", "debug"} <= set(proc.stdout.split())
    assert "hello from distroless-nonroot" in proc.stdout
    assert "/debug/bin/wget" in proc.stdout and "/debug/bin/ps" in proc.stdout
