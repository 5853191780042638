"""Dockerfile.debug: its file name, and its text for the image a Dockerfile builds.

The debug image is built FROM the application image (`ARG APP_IMAGE`), switches to root, and adds tools:
with the family's package manager when there is one (package names per family below, install lines that
leave no cache behind), otherwise by copying a static busybox from a tools stage into /debug/bin. The
output passes hadolint; the findings it must accept (unpinned debug tools, running as root) are ignored
on the line with a stated reason.
"""

from __future__ import annotations

import re

from debugbox.core.dockerfile.stages import DockerfileModel, Stage, analyze_text
from debugbox.core.images import ImageInfo, is_valid_reference, parse_reference
from debugbox.core.settings import Settings

#: Abstract tool name → package name per package manager. Unknown tool names are installed verbatim.
PACKAGES: dict[str, dict[str, str]] = {
    "apk": {
        "curl": "curl",
        "dns": "bind-tools",
        "netcat": "netcat-openbsd",
        "tcpdump": "tcpdump",
        "strace": "strace",
        "procps": "procps",
    },
    "apt": {
        "curl": "curl",
        "dns": "dnsutils",
        "netcat": "netcat-openbsd",
        "tcpdump": "tcpdump",
        "strace": "strace",
        "procps": "procps",
    },
    "rpm": {
        "curl": "curl",
        "dns": "bind-utils",
        "netcat": "nmap-ncat",
        "tcpdump": "tcpdump",
        "strace": "strace",
        "procps": "procps-ng",
    },
    "zypper": {
        "curl": "curl",
        "dns": "bind-utils",
        "netcat": "netcat-openbsd",
        "tcpdump": "tcpdump",
        "strace": "strace",
        "procps": "procps",
    },
}
_TABLE_OF = {
    "apk": "apk",
    "apt": "apt",
    "dnf": "rpm",
    "microdnf": "rpm",
    "yum": "rpm",
    "tdnf": "rpm",
    "zypper": "zypper",
}
_PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+._-]*")

#: hadolint rules each install line has to ignore, and why (pinning debug tools would only make them rot).
_PIN_RULE = {
    "apk": "DL3018",
    "apt": "DL3008",
    "dnf": "DL3041",
    "microdnf": "DL3041",
    "yum": "DL3033",
    "zypper": "DL3037",
}

_BUSYBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class UnsupportedImage(ValueError):
    """No debug image can be generated: no FROM instruction, or a Windows image."""


def debug_file_name(dockerfile_name: str) -> str:
    """`Dockerfile` → `Dockerfile.debug`, `api.Dockerfile` → `api.Dockerfile.debug`."""
    return f"{dockerfile_name}.debug"


def _image_name_from_folder(folder_name: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", folder_name.lower()).strip("-._")
    name = re.sub(r"[-._]{2,}", "-", name)
    return name or "app"


def packages_for(tools: tuple[str, ...], package_manager: str) -> tuple[list[str], list[str]]:
    """(package names, tool names skipped because they are not valid package names)."""
    table = PACKAGES.get(_TABLE_OF.get(package_manager, ""), {})
    packages: list[str] = []
    skipped: list[str] = []
    for tool in tools:
        name = table.get(tool, tool)
        if _PACKAGE_NAME.fullmatch(name):
            if name not in packages:
                packages.append(name)
        else:
            skipped.append(tool)
    return packages, skipped


def install_lines(package_manager: str, packages: list[str]) -> list[str]:
    """The RUN instruction (with its hadolint ignore line) installing `packages` the family's way."""
    if not packages:
        return []
    pkgs = " ".join(packages)
    run = {
        "apk": f"RUN apk add --no-cache {pkgs}",
        "apt": (
            "RUN apt-get update \\\n"
            f"    && apt-get install -y --no-install-recommends {pkgs} \\\n"
            "    && rm -rf /var/lib/apt/lists/*"
        ),
        "dnf": f"RUN dnf -y install {pkgs} \\\n    && dnf clean all",
        "microdnf": f"RUN microdnf -y install {pkgs} \\\n    && microdnf clean all",
        "yum": f"RUN yum -y install {pkgs} \\\n    && yum clean all",
        "tdnf": f"RUN tdnf -y install {pkgs} \\\n    && tdnf clean all",
        "zypper": f"RUN zypper -n install --no-recommends {pkgs} \\\n    && zypper -n clean -a",
    }[package_manager]
    rules = _PIN_RULE.get(package_manager)
    lines = []
    if rules:
        lines.append(f"# Not pinned on purpose (hadolint {rules}): debug tools follow the distribution.")
        lines.append(f"# hadolint ignore={rules}")
    lines.append(run)
    return lines


def _original_user(stage: Stage) -> str | None:
    return stage.user or stage.info.default_user


def _app_image_default(app_image: str | None, settings: Settings, folder_name: str) -> tuple[str, list[str]]:
    chosen = settings.debug_image.app_image or app_image
    if chosen:
        if not is_valid_reference(chosen):
            raise UnsupportedImage(f"{chosen!r} is not a valid image reference for ARG APP_IMAGE")
        return chosen, []
    placeholder = f"{_image_name_from_folder(folder_name)}:dev"
    return placeholder, [
        "# APP_IMAGE defaults to a placeholder: build the application image under that name first,",
        f"#   docker build -t {placeholder} .",
        "# or pass your own: docker build --build-arg APP_IMAGE=<image> -f <this file> .",
    ]


def render_debug_dockerfile(
    text: str,
    *,
    settings: Settings,
    app_image: str | None,
    folder_name: str,
    use_debug_variant: bool = False,
    model: DockerfileModel | None = None,
) -> str:
    """Dockerfile.debug for the image `text` builds. Raises UnsupportedImage for Windows images."""
    model = model if model is not None else analyze_text(text)
    final = model.final
    if final is None:
        raise UnsupportedImage("the Dockerfile has no FROM instruction")
    info: ImageInfo | None = final.info
    if info is not None and info.family == "windows":
        raise UnsupportedImage("Windows images are not supported: Dockerfile.debug adds Linux tools")
    default, how = _app_image_default(app_image, settings, folder_name)
    described = final.image if final and final.image else (final.from_text if final else "unknown")
    out = [
        "# syntax=docker/dockerfile:1",
        "# Generated by debugbox: the application image plus a shell and debugging tools.",
        f"# The application's final stage builds on {described}"
        + (f" ({info.family}, package manager {info.package_manager})." if info else "."),
    ]
    pm = info.package_manager if info else "unknown"
    variant = info.debug_variant if (info and use_debug_variant and info.family == "distroless") else None
    tools_stage: str | None = None
    if variant:
        ref = parse_reference(variant)
        tools_stage = f"{ref.repository}:{'debug' if 'debug' in (ref.tag or '') else ref.tag}"
        tools_stage = re.sub(r":debug-nonroot$", ":debug", tools_stage)
    elif pm not in _TABLE_OF:
        tools_stage = settings.debug_image.tools_image
    # A global ARG must come before the first FROM to be visible in `FROM ${APP_IMAGE}`.
    out += ["", *how, f"ARG APP_IMAGE={default}"]
    if tools_stage:
        out += ["", f"FROM {tools_stage} AS debug-tools"]
    out += ["", "FROM ${APP_IMAGE}", ""]
    user = _original_user(final) if final else None
    out.append(
        f"# The application image runs as {user}." if user else "# The application image runs as root."
    )
    out.append("# tcpdump and strace need root, so the debug image stays root (hadolint DL3002 on purpose);")
    out.append("# the user is numeric (0) so that it works in images without /etc/passwd.")
    out.append("# hadolint ignore=DL3002")
    out.append("USER 0")
    packages, skipped = packages_for(settings.debug_image.tools, pm)
    if skipped:
        out.append(f"# Skipped tool names that are not package names: {', '.join(skipped)}")
    if variant:
        out += [
            "",
            "# The distroless :debug variant carries a static busybox in /busybox.",
            "COPY --from=debug-tools /busybox /busybox",
            f'ENV PATH="{_BUSYBOX_PATH}:/busybox"',
            'ENTRYPOINT ["/busybox/sh"]',
        ]
    elif tools_stage:
        why = "no package manager" if pm == "none" else "an unknown package manager"
        out += [
            "",
            f"# The image has {why}: copy a static busybox (sh, wget, nslookup, nc, ps, …) into /debug/bin.",
            "COPY --from=debug-tools /bin/busybox /debug/bin/busybox",
            'RUN ["/debug/bin/busybox", "--install", "-s", "/debug/bin"]',
            f'ENV PATH="{_BUSYBOX_PATH}:/debug/bin"',
            'ENTRYPOINT ["/debug/bin/sh"]',
        ]
    else:
        out.append("")
        if info and info.family == "rhel":
            out.append(
                "# Without a RHEL subscription some tools (tcpdump, strace) may be missing: drop them."
            )
        out += install_lines(pm, packages)
    return "\n".join(out) + "\n"
