"""Which cluster, context and namespace: kubeconfig discovery and parsing, without the kubernetes client.

Owns the standard lookup (`KUBECONFIG`, a list separated by the OS path separator, else `~/.kube/config`), the
merge rule kubectl uses (the first file that sets a name or `current-context` wins), and picking the context
(`debugbox.kubernetes.context`, else `current-context`). Reading a few YAML files is cheap; the kubernetes
client (about 0.4 s to import) is only loaded later, by `kube_client.py`, when the cluster is actually asked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from debugbox.core import safe_yaml
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge import files

#: Kubeconfigs with many embedded certificates stay far below this.
MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024


class KubeconfigError(RuntimeUnavailable):
    """No kubeconfig, an unreadable one, or no usable context in it."""


@dataclass(frozen=True)
class KubeContext:
    """The resolved context: what `kubectl --context NAME` would talk to."""

    name: str
    cluster: str
    server: str
    namespace: str
    """The context's namespace; empty when it sets none."""
    user: str
    files: tuple[str, ...]
    """The kubeconfig files it came from (for the client and for messages)."""
    credential_plugin: str = ""
    """The program the user's `exec:` entry runs for credentials (`aws`, `gke-gcloud-auth-plugin`), or ""."""


def kubeconfig_paths(env: Mapping[str, str] | None = None, home: str | None = None) -> list[Path]:
    """The kubeconfig files to read, in precedence order (existing or not)."""
    env = os.environ if env is None else env
    raw = env.get("KUBECONFIG", "")
    if raw:
        return [Path(p).expanduser() for p in raw.split(os.pathsep) if p]
    base = Path(home) if home else Path.home()
    return [base / ".kube" / "config"]


def _named(items: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            out.setdefault(item["name"], dict(item))
    return out


@dataclass(frozen=True)
class Kubeconfig:
    current_context: str
    contexts: dict[str, dict[str, Any]]
    clusters: dict[str, dict[str, Any]]
    files: tuple[str, ...]
    users: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def context(self, wanted: str = "") -> KubeContext:
        """The context named `wanted` (the setting), else `current-context`; raises KubeconfigError."""
        files = ", ".join(self.files)
        name = wanted or self.current_context
        if not name:
            raise KubeconfigError(
                f"the kubeconfig ({files}) sets no current-context; choose one with "
                "`kubectl config use-context` "
                "or the debugbox.kubernetes.context setting"
            )
        entry = self.contexts.get(name)
        if entry is None:
            known = ", ".join(sorted(self.contexts)) or "none"
            raise KubeconfigError(
                f"context {name!r} is not in the kubeconfig ({files}); known contexts: {known}"
            )
        raw_ctx = entry.get("context")
        ctx: Mapping[str, Any] = raw_ctx if isinstance(raw_ctx, Mapping) else {}
        cluster_name = str(ctx.get("cluster") or "")
        cluster = self.clusters.get(cluster_name, {}).get("cluster") or {}
        server = str(cluster.get("server") or "") if isinstance(cluster, Mapping) else ""
        if not server:
            raise KubeconfigError(
                f"context {name!r} points at cluster {cluster_name!r}, which has no server in {files}"
            )
        return KubeContext(
            name=name,
            cluster=cluster_name,
            server=server,
            namespace=str(ctx.get("namespace") or ""),
            user=str(ctx.get("user") or ""),
            files=self.files,
            credential_plugin=self._plugin(str(ctx.get("user") or "")),
        )

    def _plugin(self, user: str) -> str:
        entry = self.users.get(user, {}).get("user")
        plugin = entry.get("exec") if isinstance(entry, Mapping) else None
        command = plugin.get("command") if isinstance(plugin, Mapping) else None
        return command if isinstance(command, str) else ""


def parse_kubeconfigs(texts: Sequence[tuple[str, str]]) -> Kubeconfig:
    """Merge (file name, YAML text) pairs the way kubectl does: the first definition of each name wins."""
    current = ""
    contexts: dict[str, dict[str, Any]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    users: dict[str, dict[str, Any]] = {}
    for name, text in texts:
        try:
            doc = safe_yaml.load(text)
        except yaml.YAMLError as exc:
            raise KubeconfigError(
                f"kubeconfig {name} is not valid YAML: {safe_yaml.describe_error(exc)}; fix it, or point "
                "KUBECONFIG at another file"
            ) from None
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise KubeconfigError(f"kubeconfig {name} is not a mapping")
        current = current or str(doc.get("current-context") or "")
        for key, value in _named(doc.get("contexts")).items():
            contexts.setdefault(key, value)
        for key, value in _named(doc.get("clusters")).items():
            clusters.setdefault(key, value)
        for key, value in _named(doc.get("users")).items():
            users.setdefault(key, value)
    return Kubeconfig(current, contexts, clusters, tuple(name for name, _ in texts), users)


def load_kubeconfig(paths: Sequence[Path] | None = None) -> Kubeconfig:
    """Read and merge the kubeconfig files that exist; KubeconfigError when there is none."""
    paths = kubeconfig_paths() if paths is None else list(paths)
    texts: list[tuple[str, str]] = []
    for path in paths:
        try:
            if not path.exists():
                continue
            texts.append((str(path), files.read_text(path, MAX_KUBECONFIG_BYTES)))
        except files.FileRefused as exc:
            raise KubeconfigError(f"cannot read kubeconfig: {exc}") from None
    if not texts:
        looked = ", ".join(str(p) for p in paths)
        raise KubeconfigError(
            f"no kubeconfig found (looked at {looked}); "
            "set KUBECONFIG or create ~/.kube/config to reach a cluster"
        )
    return parse_kubeconfigs(texts)
