"""The image table: references as written in real Dockerfiles and manifests (most from the shared corpus)."""

from __future__ import annotations

import pytest
from debugbox.core.images import RULES, classify_image, http_clients, is_valid_reference, parse_reference

SHA = "sha256:" + "e3f945647ffb95b5839c07038d64f9811adf17308b9121d8a2b87b6a22a80a39"[:64]

# ref, family, package manager, has_shell, shell, default_user
CASES = [
    # distroless (corpus: kube-egress-gateway, cloud-sql-proxy, coredns, pomerium, distroless examples)
    (f"gcr.io/distroless/static:nonroot@{SHA}", "distroless", "none", False, None, "65532"),
    ("gcr.io/distroless/static-debian12:nonroot", "distroless", "none", False, None, "65532"),
    ("gcr.io/distroless/cc", "distroless", "none", False, None, None),
    ("gcr.io/distroless/java17-debian13", "distroless", "none", False, None, None),
    (f"gcr.io/distroless/base-nossl-debian12:debug@{SHA}", "distroless", "none", True, "/busybox/sh", None),
    ("gcr.io/distroless/static:debug-nonroot", "distroless", "none", True, "/busybox/sh", "65532"),
    ("quay.io/quarkus/quarkus-distroless-image:1.0", "distroless", "none", False, None, None),
    # scratch-like
    ("scratch", "scratch", "none", False, None, None),
    ("hello-world", "scratch", "none", False, None, None),
    ("busybox:buildroot-2014.02", "busybox", "none", True, "/bin/sh", None),
    # Chainguard / Wolfi (corpus: bomctl, openfga, falco)
    ("cgr.dev/chainguard/static:latest", "chainguard", "none", False, None, "65532"),
    (f"cgr.dev/chainguard/static@{SHA}", "chainguard", "none", False, None, "65532"),
    ("cgr.dev/chainguard/python:latest-dev", "chainguard", "apk", True, "/bin/sh", None),
    ("cgr.dev/chainguard/wolfi-base", "wolfi", "apk", True, "/bin/sh", None),
    # Alpine and its variants
    ("alpine:3.23", "alpine", "apk", True, "/bin/sh", None),
    ("docker.io/library/alpine:latest", "alpine", "apk", True, "/bin/sh", None),
    ("public.ecr.aws/docker/library/alpine", "alpine", "apk", True, "/bin/sh", None),
    ("psdockercache.azurecr.io/alpine:3.20", "alpine", "apk", True, "/bin/sh", None),
    (f"python:3.14.6-alpine@{SHA}", "alpine", "apk", True, "/bin/sh", None),
    ("eclipse-temurin:25.0.3_9-jre-alpine", "alpine", "apk", True, "/bin/sh", None),
    ("golang:1.26-alpine3.23", "alpine", "apk", True, "/bin/sh", None),
    ("node:22-alpine", "alpine", "apk", True, "/bin/sh", None),
    # Debian / Ubuntu and the official images on them
    ("python:3.12-slim-bookworm", "debian", "apt", True, "/bin/sh", None),
    (f"python:3.14.6-slim@{SHA}", "debian", "apt", True, "/bin/sh", None),
    ("debian:trixie-slim", "debian", "apt", True, "/bin/sh", None),
    ("buildpack-deps:bookworm", "debian", "apt", True, "/bin/sh", None),
    ("golang:1.26", "debian", "apt", True, "/bin/sh", None),
    ("nginx", "debian", "apt", True, "/bin/sh", None),
    ("docker.io/falcosecurity/falco:latest-debian", "debian", "apt", True, "/bin/sh", None),
    ("ubuntu", "ubuntu", "apt", True, "/bin/sh", None),
    ("psdockercache.azurecr.io/ubuntu:24.04", "ubuntu", "apt", True, "/bin/sh", None),
    ("eclipse-temurin:21-jre", "ubuntu", "apt", True, "/bin/sh", None),
    ("mcr.microsoft.com/dotnet/aspnet:10.0", "ubuntu", "apt", True, "/bin/sh", None),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", "debian", "apt", True, "/bin/sh", None),
    # chiseled Ubuntu (corpus: microservices-demo cartservice)
    ("mcr.microsoft.com/dotnet/runtime-deps:10.0.0-noble-chiseled", "chiseled", "none", False, None, None),
    ("ubuntu/python:3.12-24.04_stable-chiseled", "chiseled", "none", False, None, None),
    # Red Hat family
    ("registry.access.redhat.com/ubi9/ubi", "rhel", "dnf", True, "/bin/sh", None),
    ("registry.access.redhat.com/ubi9/ubi-minimal:9.7", "rhel", "microdnf", True, "/bin/sh", None),
    ("registry.access.redhat.com/ubi8/ubi-minimal:8.3", "rhel", "microdnf", True, "/bin/sh", None),
    ("registry.access.redhat.com/ubi9/ubi-micro", "rhel", "none", True, "/bin/sh", None),
    ("registry.access.redhat.com/ubi9/openjdk-21-runtime:1.24", "rhel", "microdnf", True, "/bin/sh", "185"),
    ("registry.fedoraproject.org/fedora:latest", "fedora", "dnf", True, "/bin/sh", None),
    ("quay.io/centos/centos:stream9-minimal", "centos", "microdnf", True, "/bin/sh", None),
    ("quay.io/centos/centos:stream9", "centos", "dnf", True, "/bin/sh", None),
    ("centos:7", "centos", "yum", True, "/bin/sh", None),
    ("rockylinux:9", "rocky", "dnf", True, "/bin/sh", None),
    ("almalinux:9", "alma", "dnf", True, "/bin/sh", None),
    ("oraclelinux:9-slim", "oracle", "microdnf", True, "/bin/sh", None),
    ("oraclelinux:9", "oracle", "dnf", True, "/bin/sh", None),
    ("amazonlinux:2", "amazonlinux", "yum", True, "/bin/sh", None),
    ("amazonlinux:2023", "amazonlinux", "dnf", True, "/bin/sh", None),
    ("amazonlinux:latest", "amazonlinux", "dnf", True, "/bin/sh", None),
    ("public.ecr.aws/amazonlinux/amazonlinux:2", "amazonlinux", "yum", True, "/bin/sh", None),
    ("amazon/aws-for-fluent-bit:main-release", "amazonlinux", "yum", True, "/bin/sh", None),
    # Microsoft
    ("mcr.microsoft.com/azurelinux/base/core:3.0", "azurelinux", "tdnf", True, "/bin/sh", None),
    ("mcr.microsoft.com/cbl-mariner/base/core:2.0", "azurelinux", "tdnf", True, "/bin/sh", None),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", "windows", "none", False, None, None),
    ("mcr.microsoft.com/windows/nanoserver:ltsc2022", "windows", "none", False, None, None),
    # SUSE
    ("opensuse/leap:15.0", "opensuse", "zypper", True, "/bin/sh", None),
    ("opensuse/ruby:2.6", "opensuse", "zypper", True, "/bin/sh", None),
    (f"registry.suse.com/bci/bci-base:15.7@{SHA}", "opensuse", "zypper", True, "/bin/sh", None),
    ("registry.suse.com/bci/bci-micro:15.7", "opensuse", "none", True, "/bin/sh", None),
    # vendor images with their own user, and their variants
    ("bitnami/redis:7.4", "debian", "apt", True, "/bin/sh", "1001"),
    ("nginxinc/nginx-unprivileged:1.27-alpine", "alpine", "apk", True, "/bin/sh", "101"),
    ("nginxinc/nginx-unprivileged:1.27", "debian", "apt", True, "/bin/sh", "101"),
    ("eclipse-temurin:21-jre-ubi9-minimal", "rhel", "microdnf", True, "/bin/sh", None),
    (
        "mcr.microsoft.com/dotnet/runtime-deps:8.0-azurelinux3.0-distroless",
        "distroless",
        "none",
        False,
        None,
        None,
    ),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-cbl-mariner2.0", "azurelinux", "tdnf", True, "/bin/sh", None),
    # unknown
    ("localhost:5000/x:1", "unknown", "unknown", None, None, None),
    ("registry.k8s.io/kustomize/kustomize:v5", "unknown", "unknown", None, None, None),
    ("", "unknown", "unknown", None, None, None),
]


@pytest.mark.parametrize(
    ("ref", "family", "pm", "has_shell", "shell", "user"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_classify(
    ref: str, family: str, pm: str, has_shell: bool | None, shell: str | None, user: str | None
) -> None:
    info = classify_image(ref)
    assert (info.family, info.package_manager, info.has_shell, info.shell, info.default_user) == (
        family,
        pm,
        has_shell,
        shell,
        user,
    ), info.why
    assert info.why
    assert info.ref == ref.strip()


@pytest.mark.parametrize(
    ("ref", "registry", "repository", "tag", "digest"),
    [
        ("python:3.12-slim-bookworm", None, "python", "3.12-slim-bookworm", None),
        ("docker.io/library/python", None, "python", None, None),
        ("index.docker.io/bitnami/redis:7", None, "bitnami/redis", "7", None),
        ("localhost:5000/x:1", "localhost:5000", "localhost:5000/x", "1", None),
        ("localhost:5000/x", "localhost:5000", "localhost:5000/x", None, None),
        (
            "registry.example:443/team/app@" + SHA,
            "registry.example:443",
            "registry.example:443/team/app",
            None,
            SHA,
        ),
        ("gcr.io/distroless/static:nonroot@" + SHA, "gcr.io", "gcr.io/distroless/static", "nonroot", SHA),
        ("Alpine:3", None, "alpine", "3", None),
        ("  alpine  ", None, "alpine", None, None),
    ],
)
def test_parse_reference(
    ref: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    parsed = parse_reference(ref)
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("ref", "variant"),
    [
        ("gcr.io/distroless/static:nonroot", "gcr.io/distroless/static:debug-nonroot"),
        ("gcr.io/distroless/static-debian12", "gcr.io/distroless/static-debian12:debug"),
        (f"gcr.io/distroless/base:latest@{SHA}", "gcr.io/distroless/base:debug"),
        ("cgr.dev/chainguard/static:latest", "cgr.dev/chainguard/static:latest-dev"),
        ("gcr.io/distroless/static:debug", None),
        ("scratch", None),
        ("alpine", None),
    ],
)
def test_debug_variant(ref: str, variant: str | None) -> None:
    assert classify_image(ref).debug_variant == variant


@pytest.mark.parametrize(
    ("ref", "clients"),
    [
        ("alpine:3", {"wget"}),
        ("debian:12-slim", set()),
        ("python:3.12-slim", set()),
        ("python:3.12", {"curl", "wget"}),
        ("gcr.io/distroless/static", set()),
        ("registry.access.redhat.com/ubi9/ubi-minimal", {"curl"}),
        ("localhost:5000/x", None),
    ],
)
def test_http_clients(ref: str, clients: set[str] | None) -> None:
    found = http_clients(classify_image(ref))
    assert (set(found) if found is not None else None) == clients


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("myapp:dev", True),
        ("localhost:5000/team/app:1.2", True),
        ("ghcr.io/a/b@" + SHA, True),
        ("${REGISTRY}/app:${TAG}", False),
        ("app dev", False),
        ("app:dev\nRUN rm -rf /", False),
        ("", False),
    ],
)
def test_is_valid_reference(ref: str, ok: bool) -> None:
    assert is_valid_reference(ref) is ok


def test_every_rule_states_why_and_known_values() -> None:
    from debugbox.core.images import FAMILIES, PACKAGE_MANAGERS

    for rule in RULES:
        assert rule.why, rule
        assert rule.traits.family in FAMILIES, rule
        assert rule.traits.package_manager in PACKAGE_MANAGERS, rule
        assert (rule.traits.shell is None) or rule.traits.has_shell, rule


def test_classify_is_cached() -> None:
    assert classify_image("alpine:3.20") is classify_image("alpine:3.20")
