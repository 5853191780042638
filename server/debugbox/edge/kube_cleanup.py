"""Finding and deleting the pod copies debugbox made (label `debugbox.dev/created-by=debugbox`): the one
implementation behind `debugbox cleanup` (CLI) and `debugbox.cleanupCopies` (LSP).

Ephemeral containers cannot be removed (the API only adds them); copies are whole pods that keep running until
deleted, so this is how they go away again. Asking the user is the caller's part (a terminal's y/N, the editor's
`window/showMessageRequest`); `question` is the one wording both use (`consent.delete_copies_question`).
Names come from the cluster and are checked as pod names before they go into a DELETE path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from debugbox.core.settings import Settings
from debugbox.core.targets import consent, names
from debugbox.core.targets.consent import COPY_LABEL
from debugbox.edge.kube_client import KubeClient


@dataclass(frozen=True)
class Copies:
    """The labelled copies in one namespace of one context, with the client that found them."""

    context: str
    namespace: str
    pods: tuple[str, ...]
    client: KubeClient

    @property
    def where(self) -> str:
        return f"namespace {self.namespace} (context {self.context})"

    def question(self) -> str:
        """What the user confirms before `delete` (the same words in the terminal and in the editor)."""
        return consent.delete_copies_question(self.pods, self.where)


def find_copies(settings: Settings, context: str | None = None, namespace: str | None = None) -> Copies:
    """The copies in `namespace` (default: the settings', then the context's) of `context` (default: the
    settings', then the kubeconfig's current one). Raises `RuntimeProblem` with one sentence when the cluster
    cannot be asked (unreachable, RBAC, no client)."""
    from debugbox.edge.kube_backend import KubeBackend

    backend = KubeBackend(settings)
    ctx = backend.context(context)
    ns = names.validate_label(namespace or backend.namespace_for(ctx), "namespace")
    client = backend.client(ctx)
    found = (
        str((p.get("metadata") or {}).get("name") or "")
        for p in client.list_pods(ns, label_selector=COPY_LABEL)
    )
    return Copies(ctx.name, ns, tuple(n for n in found if n), client)


def delete_copies(copies: Copies, on_deleted: Callable[[str], None] | None = None) -> list[str]:
    """Delete each copy in turn, calling `on_deleted(name)` after each; the names deleted. A refusal (RBAC,
    unreachable) raises `RuntimeProblem` at that copy: the ones before it are gone, and `on_deleted` said so."""
    deleted: list[str] = []
    for name in copies.pods:
        copies.client.delete_pod(copies.namespace, names.validate_pod_name(name))
        deleted.append(name)
        if on_deleted is not None:
            on_deleted(name)
    return deleted
