"""Stage resolution: ARG substitution in FROM, stage chains, USER inheritance, evidence from RUN lines."""

from __future__ import annotations

import pytest
from debugbox.core.dockerfile.stages import analyze_text, expand, inspect_dockerfile


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("$X", {"X": "a"}, "a"),
        ("${X}", {"X": "a"}, "a"),
        ("${X:-d}", {}, "d"),
        ("${X:-d}", {"X": ""}, "d"),
        ("${X-d}", {"X": ""}, ""),
        ("${X-d}", {"X": None}, "d"),
        ("${X:+w}", {"X": "a"}, "w"),
        ("${X:+w}", {}, ""),
        ("${X:-${Y}}", {"Y": "nested"}, "nested"),
        ("a-$X-b", {"X": "1"}, "a-1-b"),
        ("\\$X", {"X": "1"}, "$X"),
        ("$X", {"X": None}, None),
        ("$UNDECLARED", {}, None),
        ("${X", {"X": "a"}, None),
        ("${X?need}", {}, None),
        ("plain", {}, "plain"),
    ],
)
def test_expand(text: str, env: dict[str, str | None], expected: str | None) -> None:
    assert expand(text, env) == expected


def test_global_args_stage_chain_and_platform_args() -> None:
    text = """\
ARG REGISTRY=docker.io
ARG BASE=${REGISTRY}/library/golang:1.22
ARG RUNTIME
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN go build
FROM build AS test
FROM gcr.io/distroless/static:nonroot
COPY --from=build /app /app
COPY --from=0 /x /x
COPY --from=docker.io/library/busybox /bin/busybox /busybox
"""
    model = analyze_text(text)
    build, test, final = model.stages
    assert build.name == "build" and build.platform == "linux/amd64"
    assert build.image == "docker.io/library/golang:1.22"
    assert (build.info.family, build.info.package_manager) == ("debian", "apt")
    assert test.base_stage == 0 and test.image == build.image
    assert final.info.has_shell is False and final.info.default_user == "65532"
    assert [(raw, index) for _, raw, index in final.copies_from] == [
        ("build", 0),
        ("0", 0),
        ("docker.io/library/busybox", None),
    ]
    assert model.global_args["RUNTIME"] is None


def test_unresolvable_from_falls_back_to_run_evidence() -> None:
    text = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN apk add --no-cache curl\n"
    (stage,) = analyze_text(text).stages
    assert stage.image is None
    assert (stage.info.package_manager, stage.info.family, stage.info.has_shell) == ("apk", "alpine", True)
    assert "apk" in (stage.evidence or "")


def test_evidence_is_inherited_from_ancestor_stages() -> None:
    text = "FROM registry.example/base:1 AS base\nRUN apt-get update\nFROM base\nCOPY . .\n"
    final = analyze_text(text).final
    assert final is not None
    assert final.info.package_manager == "apt"


def test_evidence_never_overrides_the_table() -> None:
    # The file calls yum on Rocky 9; the table knows Rocky 9 uses dnf (yum is an alias there).
    final = analyze_text("FROM rockylinux:9\nRUN yum -y install git\n").final
    assert final is not None and final.info.package_manager == "dnf"


def test_user_is_inherited_and_expanded() -> None:
    text = """\
FROM alpine AS base
ARG UID=65532
USER ${UID}:${UID}
FROM base AS app
FROM base
USER root
FROM alpine
"""
    stages = analyze_text(text).stages
    assert [s.user for s in stages] == ["65532:65532", "65532:65532", "root", None]


def test_stage_names_are_case_insensitive_and_only_refer_backwards() -> None:
    text = "FROM alpine AS Builder\nFROM BUILDER\nFROM later\nFROM debian AS later\n"
    stages = analyze_text(text).stages
    assert stages[1].base_stage == 0
    assert stages[2].base_stage is None and stages[2].image == "later"


def test_moby_style_conditional_stage_names() -> None:
    text = """\
ARG ALPINE_VERSION=3.23
ARG BUILDKIT_DEBUG
FROM alpine:${ALPINE_VERSION} AS buildkit-linux
FROM scratch AS buildkit-linux-debug
FROM buildkit-$TARGETOS${BUILDKIT_DEBUG:+-debug}
"""
    final = analyze_text(text).final
    assert final is not None and final.base_stage == 0 and final.image == "alpine:3.23"


def test_inspect_schema() -> None:
    result = inspect_dockerfile(analyze_text("FROM golang:1.22 AS build\nFROM build\nUSER 10\n"))
    assert result["kind"] == "dockerfile" and result["final_stage"] == 1
    stages = result["stages"]
    assert isinstance(stages, list)
    assert set(stages[0]) == {
        "index",
        "name",
        "line",
        "from",
        "image",
        "base_stage",
        "family",
        "package_manager",
        "has_shell",
        "shell",
        "user",
    }
    assert stages[1] == {
        "index": 1,
        "name": None,
        "line": 2,
        "from": "build",
        "image": "golang:1.22",
        "base_stage": 0,
        "family": "debian",
        "package_manager": "apt",
        "has_shell": True,
        "shell": "/bin/sh",
        "user": "10",
    }
