"""What debugbox knows about container images: one data table, and `classify_image(ref)` reading it.

Pure and cached. Given an image reference as written in a Dockerfile or a Pod spec (after ARG
substitution), it answers: which distribution family, which package manager, whether there is a shell
and where, which user the image runs as by default, and which sibling tag carries a shell (distroless
`:debug`, Chainguard `-dev`). Anything not in the table is `unknown` / None: callers fall back to
evidence in the file (e.g. `RUN apk add`).

To teach debugbox a new image, add one `Rule` to `RULES` (first match wins; put specific rules before
generic ones). A rule matches the normalised repository (`docker.io/library/` dropped) with a glob,
optionally also the tag with a regular expression, and sets the `Traits` it knows; `TAG_VARIANTS` then
refine images that publish variants by tag (`python:3.12-alpine`, `eclipse-temurin:21-ubi9-minimal`,
`dotnet/runtime:8.0-jammy-chiseled`).

Long because it is mostly data (the rule table); the code reading it is short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import lru_cache

# Families and package managers, as written in ImageInfo.
FAMILIES = (
    "alpine",
    "wolfi",
    "debian",
    "ubuntu",
    "fedora",
    "rhel",
    "centos",
    "rocky",
    "alma",
    "oracle",
    "amazonlinux",
    "azurelinux",
    "opensuse",
    "distroless",
    "chiseled",
    "scratch",
    "busybox",
    "chainguard",
    "windows",
    "unknown",
)
PACKAGE_MANAGERS = ("apk", "apt", "dnf", "microdnf", "yum", "tdnf", "zypper", "none", "unknown")

NONROOT_UID = "65532"
#: Real references (registry, path, tag and digest) stay far below this.
MAX_REFERENCE_LENGTH = 1024


@dataclass(frozen=True)
class ImageInfo:
    ref: str
    """The reference as given (stripped of surrounding whitespace)."""
    repository: str
    """Normalised: `docker.io/library/python` → `python`, `docker.io/bitnami/redis` → `bitnami/redis`."""
    tag: str | None
    digest: str | None
    family: str
    package_manager: str
    has_shell: bool | None
    shell: str | None
    default_user: str | None
    """The image's own USER; None means root or not known."""
    debug_variant: str | None
    """A sibling reference with a shell (distroless `:debug`, Chainguard `:latest-dev`), if any."""
    why: str
    """Which rule matched, in words a user can check."""

    @property
    def known(self) -> bool:
        return self.family != "unknown" or self.package_manager != "unknown"


@dataclass(frozen=True)
class Traits:
    family: str = "unknown"
    package_manager: str = "unknown"
    has_shell: bool | None = None
    shell: str | None = None
    default_user: str | None = None


def _t(family: str, pm: str, shell: str | bool | None = "/bin/sh", user: str | None = None) -> Traits:
    """Shorthand: `shell` is a path, False for "no shell", or None for "not known"."""
    if shell is False:
        return Traits(family, pm, False, None, user)
    if shell is None:
        return Traits(family, pm, None, None, user)
    assert isinstance(shell, str)
    return Traits(family, pm, True, shell, user)


DEBIAN = _t("debian", "apt")
UBUNTU = _t("ubuntu", "apt")
ALPINE = _t("alpine", "apk")
NO_SHELL = _t("distroless", "none", False)


@dataclass(frozen=True)
class Rule:
    repo: str
    """Glob over the normalised repository (`fnmatch`, case-sensitive; repositories are lower case)."""
    traits: Traits
    why: str
    tag: str | None = None
    """If set, a regular expression the tag must match in full (a missing tag counts as `latest`)."""
    variants: bool = False
    """Whether `TAG_VARIANTS` may refine the result (images that publish alpine/ubi/chiseled tags)."""


# The Docker official images (and a few others) built on Debian or Ubuntu by default, with `-alpine` and other
# variants published as tags. Family is the default tag's base.
_DEBIAN_BASED = (
    "python",
    "node",
    "golang",
    "ruby",
    "php",
    "perl",
    "rust",
    "nginx",
    "httpd",
    "postgres",
    "redis",
    "memcached",
    "haproxy",
    "openjdk",
    "buildpack-deps",
    "gcc",
    "julia",
    "elixir",
    "erlang",
    "haskell",
    "wordpress",
    "drupal",
    "ghost",
    "jenkins/jenkins",
    "r-base",
    "clojure",
    "swift",
    "mono",
    "pypy",
    "composer",
    "influxdb",
    "cassandra",
    "nextcloud",
    "matomo",
    "varnish",
    "falcosecurity/falco-driver-loader",
)
_UBUNTU_BASED = (
    "eclipse-temurin",
    "maven",
    "gradle",
    "tomcat",
    "sapmachine",
    "ibm-semeru-runtimes",
    "ibmjava",
    "mariadb",
    "mongo",
    "rabbitmq",
    "neo4j",
    "solr",
    "sonarqube",
    "kong",
    "odoo",
    "mcr.microsoft.com/devcontainers/*",
    "mcr.microsoft.com/vscode/devcontainers/*",
    "mcr.microsoft.com/playwright",
)
_ALPINE_BASED = ("traefik", "caddy", "docker", "vault", "hashicorp/*", "nats", "telegraf", "alpine/*")

# Chainguard images for building rather than running: they carry build tools (and often a shell).
_CHAINGUARD_BUILD = ("go", "rust", "gcc-glibc", "maven", "gradle", "git", "bash", "sdk", "melange", "ko")

RULES: tuple[Rule, ...] = (
    # --- Images with nothing in them --------------------------------------------------------------
    Rule("scratch", _t("scratch", "none", False), "scratch is the empty image: no files, no shell"),
    Rule("hello-world", _t("scratch", "none", False), "hello-world is one static binary on scratch"),
    # --- Distroless -------------------------------------------------------------------------------
    Rule(
        "gcr.io/distroless/*",
        _t("distroless", "none", "/busybox/sh", NONROOT_UID),
        "distroless :debug-nonroot tags add busybox at /busybox/sh and run as nonroot (65532)",
        tag=r"debug-nonroot.*",
    ),
    Rule(
        "gcr.io/distroless/*",
        _t("distroless", "none", "/busybox/sh"),
        "distroless :debug tags add busybox at /busybox/sh (no /bin/sh)",
        tag=r"debug.*",
    ),
    Rule(
        "gcr.io/distroless/*",
        _t("distroless", "none", False, NONROOT_UID),
        "distroless :nonroot: no shell, no package manager, runs as nonroot (65532)",
        tag=r"(.*-)?nonroot.*",
    ),
    Rule("gcr.io/distroless/*", NO_SHELL, "distroless: no shell, no package manager"),
    Rule(
        "registry.k8s.io/build-image/distroless-iptables",
        _t("distroless", "none", None),
        "distroless-iptables: distroless plus iptables; whether it carries a shell is not known",
    ),
    Rule(
        "*distroless*", NO_SHELL, "the repository name says distroless: assumed no shell, no package manager"
    ),
    # --- Chainguard / Wolfi -----------------------------------------------------------------------
    Rule("cgr.dev/chainguard/wolfi-base", _t("wolfi", "apk"), "wolfi-base: Wolfi with apk and busybox sh"),
    Rule("chainguard/wolfi-base", _t("wolfi", "apk"), "wolfi-base: Wolfi with apk and busybox sh"),
    Rule("cgr.dev/chainguard/busybox", _t("busybox", "none", "/bin/sh"), "Chainguard busybox: sh, no apk"),
    *(
        Rule(
            f"cgr.dev/chainguard/{name}",
            _t("chainguard", "unknown", None),
            f"Chainguard {name} is a build image; whether it has a shell or apk is not known",
            tag=r"(?!.*-dev).*",
        )
        for name in _CHAINGUARD_BUILD
    ),
    Rule(
        "cgr.dev/chainguard/*",
        _t("chainguard", "apk", "/bin/sh"),
        "Chainguard -dev tags add apk and a busybox shell",
        tag=r".*-dev",
    ),
    Rule(
        "cgr.dev/chainguard/*",
        _t("chainguard", "none", False, NONROOT_UID),
        "Chainguard images (non -dev): no shell, no package manager, run as nonroot (65532)",
    ),
    Rule(
        "cgr.dev/*",
        _t("chainguard", "none", False),
        "Chainguard images (non -dev): no shell, no apk",
        tag=r"(?!.*-dev).*",
    ),
    Rule("cgr.dev/*", _t("chainguard", "apk"), "Chainguard -dev tags add apk and a shell"),
    # --- Alpine -----------------------------------------------------------------------------------
    Rule("alpine", ALPINE, "Alpine Linux: apk, busybox sh"),
    *(Rule(r, ALPINE, f"{r.rstrip('/*')} images are built on Alpine", variants=True) for r in _ALPINE_BASED),
    # --- Busybox ----------------------------------------------------------------------------------
    Rule("busybox", _t("busybox", "none"), "busybox: a shell (/bin/sh) and applets, no package manager"),
    # --- Debian / Ubuntu --------------------------------------------------------------------------
    Rule("debian", DEBIAN, "Debian: apt, dash as /bin/sh"),
    Rule(
        "bitnami/*",
        _t("debian", "apt", "/bin/sh", "1001"),
        "Bitnami images are built on Debian (minideb) and run as 1001",
        variants=True,
    ),
    Rule(
        "nginxinc/nginx-unprivileged",
        _t("debian", "apt", "/bin/sh", "101"),
        "nginx-unprivileged: Debian, user 101",
        variants=True,
    ),
    Rule("*/debian-base", DEBIAN, "debian-base: a trimmed Debian with apt"),
    Rule(
        "ubuntu",
        _t("chiseled", "none", False),
        "chiseled Ubuntu: no shell, no package manager",
        tag=r".*chiseled.*",
    ),
    Rule("ubuntu", UBUNTU, "Ubuntu: apt, dash as /bin/sh"),
    Rule("ubuntu/*", UBUNTU, "Canonical's images are built on Ubuntu", variants=True),
    *(Rule(r, DEBIAN, f"{r.rstrip('/*')} images are built on Debian", variants=True) for r in _DEBIAN_BASED),
    *(Rule(r, UBUNTU, f"{r.rstrip('/*')} images are built on Ubuntu", variants=True) for r in _UBUNTU_BASED),
    Rule(
        "falcosecurity/falco",
        DEBIAN,
        "falco -debian tags are built on debian:12-slim",
        tag=r".*debian.*",
    ),
    Rule("falcosecurity/falco", _t("wolfi", "apk"), "falco images are built on Wolfi (apk)"),
    # .NET: Debian by default up to 9, Ubuntu from 10; variants by tag.
    Rule(
        "mcr.microsoft.com/dotnet/*",
        UBUNTU,
        ".NET 10+ images are built on Ubuntu by default",
        tag=r"(1\d|[2-9]\d)(\..*)?",
        variants=True,
    ),
    Rule("mcr.microsoft.com/dotnet/*", DEBIAN, ".NET images are built on Debian by default", variants=True),
    # --- Red Hat family ---------------------------------------------------------------------------
    Rule(
        "*/ubi*/ubi-micro", _t("rhel", "none", "/bin/sh"), "UBI micro: no package manager (bash is present)"
    ),
    Rule("*/ubi*-micro", _t("rhel", "none", "/bin/sh"), "UBI micro: no package manager (bash is present)"),
    Rule("*/ubi*/ubi-minimal", _t("rhel", "microdnf"), "UBI minimal: microdnf"),
    Rule("*/ubi*-minimal", _t("rhel", "microdnf"), "UBI minimal: microdnf"),
    Rule(
        "*/ubi*/openjdk-*",
        _t("rhel", "microdnf", "/bin/sh", "185"),
        "Red Hat OpenJDK images are built on ubi-minimal (microdnf) and run as jboss (185)",
    ),
    Rule("*/ubi*/*-minimal", _t("rhel", "microdnf", "/bin/sh", "1001"), "UBI -minimal runtimes: microdnf"),
    Rule("*/ubi*/ubi", _t("rhel", "dnf"), "UBI standard: dnf"),
    Rule("*/ubi*/ubi-init", _t("rhel", "dnf"), "UBI init: dnf"),
    Rule(
        "*/ubi*/*",
        _t("rhel", "dnf", "/bin/sh", "1001"),
        "UBI application images are built on UBI standard (dnf)",
    ),
    Rule(
        "*/ubi*micro*",
        _t("rhel", "none", "/bin/sh"),
        "UBI micro based: no package manager (bash is present)",
    ),
    Rule("fedora", _t("fedora", "dnf"), "Fedora: dnf"),
    Rule("*/fedora", _t("fedora", "dnf"), "Fedora: dnf"),
    Rule("*/fedora-minimal", _t("fedora", "microdnf"), "Fedora minimal: microdnf"),
    Rule("centos", _t("centos", "yum"), "CentOS 7 and older: yum", tag=r"(centos)?[567](\..*)?|latest"),
    Rule("centos", _t("centos", "dnf"), "CentOS 8 / Stream: dnf"),
    Rule(
        "*/centos/centos", _t("centos", "microdnf"), "CentOS Stream -minimal: microdnf", tag=r".*-minimal.*"
    ),
    Rule("*/centos/centos", _t("centos", "dnf"), "CentOS Stream: dnf"),
    Rule("rockylinux*", _t("rocky", "microdnf"), "Rocky Linux -minimal: microdnf", tag=r".*minimal.*"),
    Rule("rockylinux*", _t("rocky", "yum"), "Rocky Linux 8 and older with yum", tag=r"[0-7](\..*)?"),
    Rule("rockylinux*", _t("rocky", "dnf"), "Rocky Linux 8/9: dnf"),
    Rule("*/rockylinux/rockylinux", _t("rocky", "dnf"), "Rocky Linux: dnf"),
    Rule("almalinux*", _t("alma", "microdnf"), "AlmaLinux -minimal: microdnf", tag=r".*minimal.*"),
    Rule(
        "almalinux*",
        _t("alma", "none", "/bin/sh"),
        "AlmaLinux -micro: no package manager",
        tag=r".*micro.*",
    ),
    Rule("almalinux*", _t("alma", "dnf"), "AlmaLinux: dnf"),
    Rule("oraclelinux", _t("oracle", "microdnf"), "Oracle Linux -slim: microdnf", tag=r".*slim.*"),
    Rule("oraclelinux", _t("oracle", "yum"), "Oracle Linux 7: yum", tag=r"[67](\..*)?"),
    Rule("oraclelinux", _t("oracle", "dnf"), "Oracle Linux 8+: dnf"),
    Rule("mysql", DEBIAN, "mysql -debian tags are built on Debian", tag=r".*debian.*"),
    Rule("mysql", _t("oracle", "microdnf"), "mysql images are built on oraclelinux-slim (microdnf)"),
    Rule(
        "amazonlinux",
        _t("amazonlinux", "yum"),
        "Amazon Linux 1/2: yum",
        tag=r"(1|2|2\.[0-9.]+|2018\..*)(-.*)?",
    ),
    Rule("amazonlinux", _t("amazonlinux", "dnf"), "Amazon Linux 2023 (latest): dnf"),
    Rule(
        "*/amazonlinux",
        _t("amazonlinux", "yum"),
        "Amazon Linux 1/2: yum",
        tag=r"(1|2|2\.[0-9.]+|2018\..*)(-.*)?",
    ),
    Rule("*/amazonlinux", _t("amazonlinux", "dnf"), "Amazon Linux 2023 (latest): dnf"),
    Rule("amazoncorretto", _t("amazonlinux", "dnf"), "Corretto -al2023 tags: dnf", tag=r".*al2023.*"),
    Rule("amazoncorretto", ALPINE, "Corretto -alpine tags: Alpine", tag=r".*alpine.*"),
    Rule("amazoncorretto", _t("amazonlinux", "yum"), "Corretto images are built on Amazon Linux 2 (yum)"),
    Rule(
        "amazon/aws-for-fluent-bit",
        _t("amazonlinux", "yum"),
        "aws-for-fluent-bit is built on amazonlinux:2 (yum)",
    ),
    Rule("amazon/aws-cli", _t("amazonlinux", "yum"), "aws-cli images are built on amazonlinux:2 (yum)"),
    Rule("public.ecr.aws/lambda/*", _t("amazonlinux", "dnf"), "Lambda base images: Amazon Linux 2023 (dnf)"),
    # --- Microsoft --------------------------------------------------------------------------------
    Rule("mcr.microsoft.com/azurelinux/*", _t("azurelinux", "tdnf"), "Azure Linux: tdnf"),
    Rule(
        "mcr.microsoft.com/cbl-mariner/distroless/*",
        _t("azurelinux", "none", False),
        "CBL-Mariner distroless: no shell, no package manager",
    ),
    Rule("mcr.microsoft.com/cbl-mariner/*", _t("azurelinux", "tdnf"), "CBL-Mariner: tdnf"),
    Rule(
        "mcr.microsoft.com/windows*",
        _t("windows", "none", False),
        "Windows images: cmd/PowerShell, no /bin/sh",
    ),
    Rule(
        "mcr.microsoft.com/powershell",
        _t("windows", "none", False),
        "PowerShell Windows tags",
        tag=r".*(nanoserver|windowsservercore).*",
    ),
    # --- SUSE -------------------------------------------------------------------------------------
    Rule("opensuse/*", _t("opensuse", "zypper"), "openSUSE images: zypper"),
    Rule("registry.opensuse.org/*", _t("opensuse", "zypper"), "openSUSE images: zypper"),
    Rule("registry.suse.com/bci/bci-micro", _t("opensuse", "none", "/bin/sh"), "SLE BCI micro: no zypper"),
    Rule("registry.suse.com/bci/bci-minimal", _t("opensuse", "none", "/bin/sh"), "SLE BCI minimal: rpm only"),
    Rule(
        "registry.suse.com/bci/bci-busybox",
        _t("busybox", "none", "/bin/sh"),
        "SLE BCI busybox: sh, no zypper",
    ),
    Rule(
        "registry.suse.com/bci/bci-nano",
        _t("opensuse", "unknown", None),
        "SLE BCI nano: a minimal SUSE image; whether it has zypper or a shell is not known",
    ),
    Rule(
        "registry.suse.com/bci/*", _t("opensuse", "zypper"), "SLE BCI images are built on bci-base (zypper)"
    ),
    Rule("registry.suse.com/suse/*", _t("opensuse", "zypper"), "SUSE Linux Enterprise: zypper"),
    # --- Well-known vendor images -----------------------------------------------------------
    Rule(
        "quay.io/quarkus/*micro*",
        _t("rhel", "none", "/bin/sh"),
        "Quarkus micro images are built on ubi-micro (no package manager, bash present)",
    ),
)

# Tag tokens that change the base of images that publish variants. First match wins.
TAG_VARIANTS: tuple[tuple[str, Traits, str], ...] = (
    (
        r"(^|[-_.])chiseled([-_.]|$)",
        _t("chiseled", "none", False),
        "-chiseled tags: chiseled Ubuntu, no shell",
    ),
    (r"(^|[-_.])distroless([-_.]|$)", NO_SHELL, "-distroless tags: no shell, no package manager"),
    (r"(^|[-_.])alpine", ALPINE, "-alpine tags are built on Alpine"),
    (r"(^|[-_.])ubi\d*-minimal", _t("rhel", "microdnf"), "-ubi-minimal tags are built on UBI minimal"),
    (r"(^|[-_.])ubi\d*", _t("rhel", "dnf"), "-ubi tags are built on UBI"),
    (r"(^|[-_.])(azurelinux|cbl-mariner|mariner)", _t("azurelinux", "tdnf"), "Azure Linux tags: tdnf"),
    (r"(nanoserver|windowsservercore|ltsc20)", _t("windows", "none", False), "Windows tags: no /bin/sh"),
    (r"(^|[-_.])(bookworm|bullseye|buster|stretch|trixie|forky|slim)", DEBIAN, "Debian-based tags"),
    (r"(^|[-_.])(noble|jammy|focal|bionic|xenial|oracular|plucky|questing)", UBUNTU, "Ubuntu-based tags"),
    (r"(^|[-_.])wolfi", _t("wolfi", "apk"), "-wolfi tags: Wolfi with apk"),
)
_TAG_VARIANTS = tuple((re.compile(p), t, w) for p, t, w in TAG_VARIANTS)

# When nothing matches exactly, the last path segment of a mirrored or re-hosted image
# (`psdockercache.azurecr.io/alpine`, `public.ecr.aws/docker/library/alpine`) decides, for plain
# distribution images only.
_MIRROR_BASENAMES = {
    "alpine",
    "debian",
    "ubuntu",
    "busybox",
    "fedora",
    "amazonlinux",
    "centos",
    "rockylinux",
    "almalinux",
    "oraclelinux",
    "scratch",
    "python",
    "node",
    "golang",
    "nginx",
}

_COMPILED = tuple((r, re.compile(r.tag) if r.tag is not None else None) for r in RULES)


@dataclass(frozen=True)
class Reference:
    registry: str | None
    """Host (with port) when written; None for Docker Hub."""
    repository: str
    """Normalised repository, including a non-Docker-Hub registry host."""
    tag: str | None
    digest: str | None


_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
_DIGEST = re.compile(r"@([A-Za-z0-9_+.-]+:[A-Fa-f0-9]{16,})$")


def parse_reference(ref: str) -> Reference:
    """Split an image reference into registry, repository, tag and digest; tolerant of odd input."""
    text = ref.strip()
    digest = None
    m = _DIGEST.search(text)
    if m:
        digest = m.group(1)
        text = text[: m.start()]
    elif "@" in text:
        text, _, rest = text.partition("@")
        digest = rest or None
    tag = None
    last_slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > last_slash:
        tag = text[colon + 1 :] or None
        text = text[:colon]
    parts = text.split("/")
    registry = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts[0].lower()
        parts = parts[1:]
    path = "/".join(parts).lower()
    if registry in _DOCKER_HUB:
        registry = None
    if registry is None and path.startswith("library/"):
        path = path[len("library/") :]
    repository = f"{registry}/{path}" if registry else path
    return Reference(registry, repository, tag, digest)


def _match(repository: str, tag: str | None) -> tuple[Rule, Traits, str] | None:
    eff_tag = tag or "latest"
    for rule, tag_re in _COMPILED:
        if not fnmatchcase(repository, rule.repo):
            continue
        if tag_re is not None and not tag_re.fullmatch(eff_tag):
            continue
        traits, why = rule.traits, rule.why
        if rule.variants and tag:
            for pattern, variant, vwhy in _TAG_VARIANTS:
                if pattern.search(tag.lower()):
                    # The variant changes the base, not who the vendor's image runs as.
                    traits = replace(variant, default_user=variant.default_user or rule.traits.default_user)
                    why = f"{vwhy} ({rule.why.split(':')[0]})"
                    break
        return rule, traits, why
    return None


def _debug_variant(repository: str, tag: str | None, traits: Traits) -> str | None:
    if traits.has_shell is not False:
        return None
    if repository.startswith("gcr.io/distroless/"):
        t = tag or "latest"
        if "nonroot" in t:
            return f"{repository}:debug-nonroot"
        return f"{repository}:debug"
    if repository.startswith("cgr.dev/chainguard/"):
        return f"{repository}:latest-dev"
    return None


@lru_cache(maxsize=4096)
def classify_image(ref: str) -> ImageInfo:
    """Classify an image reference (as written, after ARG substitution). Never raises."""
    if len(ref) > MAX_REFERENCE_LENGTH:  # junk, not a reference: don't run a 150-rule table over megabytes
        return ImageInfo(
            ref, ref[:64] + "…", None, None, "unknown", "unknown", None, None, None, None, "too long"
        )
    parsed = parse_reference(ref)
    repo, tag = parsed.repository, parsed.tag
    found = _match(repo, tag)
    why_prefix = ""
    if found is None:
        # Known mirrors of Docker Hub's official images, then a registry re-hosting a plain distro image.
        for prefix in ("public.ecr.aws/docker/library/", "mirror.gcr.io/library/", "mirror.gcr.io/"):
            if repo.startswith(prefix):
                found = _match(repo[len(prefix) :], tag)
                why_prefix = f"mirror of Docker Hub's {repo[len(prefix) :]}: "
                break
    if found is None:
        base = repo.rsplit("/", 1)[-1]
        if base in _MIRROR_BASENAMES and "/" in repo:
            found = _match(base, tag)
            why_prefix = f"assumed to re-host {base}: "
    if found is None:
        return ImageInfo(
            ref=ref.strip(),
            repository=repo,
            tag=tag,
            digest=parsed.digest,
            family="unknown",
            package_manager="unknown",
            has_shell=None,
            shell=None,
            default_user=None,
            debug_variant=None,
            why=f"{repo or ref!r} is not in debugbox's image table",
        )
    _, traits, why = found
    return ImageInfo(
        ref=ref.strip(),
        repository=repo,
        tag=tag,
        digest=parsed.digest,
        family=traits.family,
        package_manager=traits.package_manager,
        has_shell=traits.has_shell,
        shell=traits.shell,
        default_user=traits.default_user,
        debug_variant=_debug_variant(repo, tag, traits),
        why=why_prefix + why,
    )


def with_evidence(info: ImageInfo, **changes: object) -> ImageInfo:
    """A copy of `info` with fields replaced (used when the Dockerfile itself shows what the image has)."""
    return replace(info, **changes)  # type: ignore[arg-type]


# Which of curl / wget an image ships, for the families where that is known. Full (non-slim) official language
# images are built on buildpack-deps, which has both; the distribution base images have neither, except
# busybox-based ones (wget applet) and the RPM families (curl-minimal).
_HTTP_CLIENTS_BY_FAMILY: dict[str, frozenset[str]] = {
    "alpine": frozenset({"wget"}),
    "busybox": frozenset({"wget"}),
    "wolfi": frozenset({"wget"}),
    "distroless": frozenset(),
    "scratch": frozenset(),
    "chiseled": frozenset(),
    "chainguard": frozenset(),
    "rhel": frozenset({"curl"}),
    "fedora": frozenset({"curl"}),
    "centos": frozenset({"curl"}),
    "rocky": frozenset({"curl"}),
    "alma": frozenset({"curl"}),
    "oracle": frozenset({"curl"}),
    "amazonlinux": frozenset({"curl"}),
    "azurelinux": frozenset({"curl"}),
}
_BARE_DISTROS = frozenset({"debian", "ubuntu"})


def http_clients(info: ImageInfo) -> frozenset[str] | None:
    """Which of `curl`/`wget` the image has, or None when debugbox does not know."""
    if info.family in _HTTP_CLIENTS_BY_FAMILY:
        if info.family == "distroless" and info.shell == "/busybox/sh":
            return frozenset({"wget"})
        return _HTTP_CLIENTS_BY_FAMILY[info.family]
    if info.family in ("debian", "ubuntu"):
        base = info.repository.rsplit("/", 1)[-1]
        if base in _BARE_DISTROS or "slim" in (info.tag or ""):
            return frozenset()
        if base == "buildpack-deps" or (
            info.repository in _FULL_LANGUAGE_IMAGES and "slim" not in (info.tag or "")
        ):
            return frozenset({"curl", "wget"})
    return None


# Official images whose default tags are built on buildpack-deps (curl and wget included).
_FULL_LANGUAGE_IMAGES = frozenset(
    {"python", "node", "golang", "ruby", "perl", "rust", "gcc", "buildpack-deps"}
)


_VALID_REF = re.compile(
    r"[a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9][a-z0-9._-]*)*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+:[a-f0-9]{32,})?"
)


def is_valid_reference(ref: str) -> bool:
    """Whether `ref` is a plain image reference (no variables, spaces, newlines): safe to write to a file."""
    return len(ref) <= 512 and _VALID_REF.fullmatch(ref) is not None
