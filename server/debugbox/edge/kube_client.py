"""The cluster edge: the few API calls debugbox makes, through the real `kubernetes` client.

Calls: list pods (label/field selectors), read a pod, read a namespace (for its Pod Security label), the
preflight's SelfSubjectAccessReviews (and a SelfSubjectReview for the user's name), and a dry-run PATCH of
`pods/ephemeralcontainers` — the one question that tells whether `kubectl debug --target` would be accepted
(RBAC, the feature being served, the server's validation and admission) without changing the pod.

The client is imported on first use, never at server start (it costs about 0.4 s). Requests go through its
`ApiClient` (kubeconfig loading, auth, TLS, the REST layer) but not its generated `CoreV1Api`: building that
class costs seconds more (thousands of validated methods), and its model classes would hide a malformed body
behind a half-filled object, so answers are parsed as JSON here. Every failure becomes a `RuntimeProblem` with
a message fit to show: unreachable or slow cluster (with the timeout), 401, 403 naming the verb and resource
to ask for, 404, 500 and malformed answers. Retries are off: a hanging server must give its message after one
timeout, not four.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from debugbox.core.errors import RuntimeProblem, RuntimeUnavailable, StrategyUnavailable, TargetNotFound
from debugbox.core.targets.preflight import Permission
from debugbox.edge.cli_tools import find_program
from debugbox.edge.kubeconfig import KubeContext

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSR_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


#: What `debugbox[kubernetes]` adds (pyproject.toml's extra): offered for installation when it is missing.
CLIENT_REQUIREMENT = "kubernetes>=31"


class ClientMissing(RuntimeUnavailable):
    """The `kubernetes` package is not importable by the interpreter debugbox runs on."""


class ApiUnreachable(RuntimeUnavailable):
    """No answer at all: the connection was refused, reset or broken off, or the server did not answer within
    the timeout. Unlike an answer (401, 403, 500...), this may pass: a watch waits a while before giving up."""


class KubeForbidden(StrategyUnavailable):
    """RBAC said no; `verb` and `resource` say what to ask the cluster admin for."""

    def __init__(self, message: str, verb: str, resource: str) -> None:
        super().__init__(message)
        self.verb, self.resource = verb, resource


class EphemeralRefused(RuntimeProblem):
    """The API server answered the dry-run PATCH with 404 (feature not served) or 422 (validation)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
        """`disabled` or `rejected`."""


def _status_message(body: str | None) -> tuple[str, dict[str, Any]]:
    try:
        status = json.loads(body or "")
    except ValueError:
        return (body or "").strip()[:300], {}
    if not isinstance(status, dict):
        return str(status)[:300], {}
    details = status.get("details") if isinstance(status.get("details"), dict) else {}
    return str(status.get("message") or "").strip(), details or {}


class KubeClient:
    """One context of one kubeconfig; thread-safe, the API client is built once on first use."""

    def __init__(self, context: KubeContext, timeout: float = 10.0) -> None:
        self.context = context
        self.timeout = timeout
        self._lock = threading.Lock()
        self._core: Any = None

    # --- plumbing ---

    def _api(self) -> Any:
        with self._lock:
            if self._core is None:
                try:
                    from kubernetes import client, config  # lazy: ~0.4 s, only when a cluster is asked
                except ImportError as exc:  # `pip install debugbox` without the [kubernetes] extra
                    raise ClientMissing(
                        f"the Kubernetes client is not installed for {sys.executable} ({exc.name or exc}): "
                        "install it with: pip install 'debugbox[kubernetes]'"
                    ) from None

                plugin = self.context.credential_plugin
                if plugin and "/" not in plugin and not find_program(plugin):
                    # The client would log the missing program and go on without credentials: the cluster's
                    # 401 would then blame credentials that were never fetched.
                    raise RuntimeUnavailable(
                        f"kubeconfig context {self.context.name!r} gets its credentials from {plugin} (the exec "
                        f"plugin of user {self.context.user!r}), which is not installed here (not on PATH); "
                        "install it, or choose another context"
                    )
                cfg = client.Configuration()
                try:
                    config.load_kube_config(  # type: ignore[no-untyped-call]
                        config_file=os.pathsep.join(self.context.files),
                        context=self.context.name,
                        client_configuration=cfg,
                        persist_config=False,
                    )
                except (
                    Exception
                ) as exc:  # the loader raises ConfigException, ValueError, exec-plugin errors...
                    raise RuntimeUnavailable(
                        f"cannot use kubeconfig context {self.context.name!r}: {exc}"
                    ) from None
                cfg.retries = False
                self._core = client.ApiClient(cfg)
            return self._core

    def _where(self) -> str:
        return f"the Kubernetes API at {self.context.server} (context {self.context.name})"

    def _call(
        self,
        what: str,
        verb: str,
        resource: str,
        namespace: str,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str | None = None,
    ) -> Any:
        """One request through the client's ApiClient; the JSON answer, or a RuntimeProblem."""
        api = self._api()
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import (
            HTTPError,
            LocationParseError,
            MaxRetryError,
            NewConnectionError,
            TimeoutError,
        )

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            request = api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = api.call_api(*request, _request_timeout=self.timeout)
            response.read()
            if not 200 <= response.status <= 299:
                raise ApiException(http_resp=response)
            raw = response.data
        except ApiException as exc:
            raise self._api_error(exc, what, verb, resource, namespace) from None
        except (TimeoutError, MaxRetryError) as exc:
            reason = getattr(exc, "reason", None) or exc
            # NewConnectionError subclasses ConnectTimeoutError in urllib3, so it is told apart first.
            if isinstance(reason, NewConnectionError):
                raise ApiUnreachable(
                    f"cannot reach {self._where()}: connection refused or no route"
                ) from None
            if isinstance(reason, TimeoutError):
                raise ApiUnreachable(
                    f"{self._where()} did not answer within {self.timeout:g} s ({what})"
                ) from None
            raise ApiUnreachable(f"cannot reach {self._where()}: {reason}") from None
        except LocationParseError as exc:  # before HTTPError, its base: nothing was sent, nothing broke off
            raise RuntimeUnavailable(
                f"{self._where()} is not a valid address ({exc}); correct the cluster's server in the kubeconfig"
            ) from None
        except (HTTPError, OSError) as exc:
            raise ApiUnreachable(f"{self._where()} broke off while {what}: {_short(exc)}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise RuntimeUnavailable(
                f"{self._where()} answered {what} with malformed JSON ({len(raw)} bytes); "
                "is it a Kubernetes API?"
            ) from None

    def _api_error(self, exc: Any, what: str, verb: str, resource: str, namespace: str) -> RuntimeProblem:
        code = int(exc.status or 0)
        if code == 0:
            # The client turns a failed TLS handshake into an ApiException without a status ("SSLError\n...").
            lines = str(exc.reason or "").splitlines()
            detail = lines[-1] if lines else "the connection failed"
            if lines and "SSL" in lines[0]:
                return RuntimeUnavailable(
                    f"cannot reach {self._where()}: the TLS handshake failed ({detail}); "
                    "check the cluster's certificate-authority and the user's certificate in the kubeconfig"
                )
            return RuntimeUnavailable(f"cannot reach {self._where()}: {detail}")
        message, details = _status_message(exc.body)
        if code == 401:
            return RuntimeUnavailable(
                f"{self._where()} rejected the credentials of context {self.context.name} "
                "(401 Unauthorized); "
                "log in again or refresh the token"
            )
        if code == 403 and "violates PodSecurity" in message:
            return EphemeralRefused(f"Pod Security admission refused it: {message}", "rejected")
        if code == 403:
            # `kubectl auth can-i VERB pods/NAME` reads the part after the slash as a name: a subresource
            # goes in --subresource.
            base, _, sub = resource.partition("/")
            can_i = f"kubectl auth can-i {verb} {base}" + (f" --subresource={sub}" if sub else "")
            return KubeForbidden(
                f"forbidden: {what} needs RBAC permission to `{verb} {resource}` in namespace {namespace}; "
                f"ask for it ({can_i} -n {namespace}). Server: {message}",
                verb,
                resource,
            )
        subresource = resource == "pods/ephemeralcontainers"
        if code == 404:
            if subresource and not details.get("name"):
                # cdebug's test too: a 404 that names no object means the subresource itself is not served.
                return EphemeralRefused(
                    f"{what}: the API server does not serve it (404: {message})", "disabled"
                )
            return TargetNotFound(f"{message} in namespace {namespace} (context {self.context.name})")
        if code == 422 and subresource:
            return EphemeralRefused(message, "rejected")
        if code >= 500:
            return RuntimeUnavailable(f"{self._where()} failed while {what} ({code}): {message}")
        return RuntimeUnavailable(f"{self._where()} refused {what} ({code} {exc.reason}): {message}")

    # --- calls ---

    def list_pods(
        self, namespace: str, label_selector: str | None = None, field_selector: str | None = None
    ) -> list[dict[str, Any]]:
        query = [("labelSelector", label_selector)] if label_selector else []
        query += [("fieldSelector", field_selector)] if field_selector else []
        data = self._call(
            "listing pods",
            "list",
            "pods",
            namespace,
            "GET",
            f"/api/v1/namespaces/{_seg(namespace)}/pods",
            query,
        )
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise RuntimeUnavailable(f"{self._where()} answered the pod list without items")
        for item in items:  # list items come without kind/apiVersion; restore the namespace for PodFacts
            if isinstance(item, dict):
                item.setdefault("metadata", {}).setdefault("namespace", namespace)
        return [i for i in items if isinstance(i, dict)]

    def read_pod(self, namespace: str, name: str) -> dict[str, Any]:
        path = f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(name)}"
        data = self._call(f"reading pod {name}", "get", "pods", namespace, "GET", path)
        if not isinstance(data, dict):
            raise RuntimeUnavailable(
                f"{self._where()} answered pod {name} with something that is not an object"
            )
        return data

    def pod_exists(self, namespace: str, name: str) -> bool:
        try:
            self.read_pod(namespace, name)
        except TargetNotFound:
            return False
        return True

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """The namespace's labels, or None when they can't be read (many users may not get namespaces)."""
        what = f"reading namespace {namespace}"
        try:
            data = self._call(
                what, "get", "namespaces", namespace, "GET", f"/api/v1/namespaces/{_seg(namespace)}"
            )
        except (KubeForbidden, TargetNotFound):
            return None
        labels = (data.get("metadata") or {}).get("labels") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def label_pod(self, namespace: str, name: str, labels: dict[str, str]) -> None:
        """Add `labels` to a pod (a JSON merge patch of `metadata.labels`; other labels stay)."""
        self._call(
            f"labelling pod {name}",
            "patch",
            "pods",
            namespace,
            "PATCH",
            f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(name)}",
            (),
            {"metadata": {"labels": labels}},
            "application/merge-patch+json",
        )

    def create_pod(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a pod (a copy debugbox builds itself); the API's answer."""
        name = str((body.get("metadata") or {}).get("name") or "")
        path = f"/api/v1/namespaces/{_seg(namespace)}/pods"
        data = self._call(
            f"creating pod {name}", "create", "pods", namespace, "POST", path, (), body, "application/json"
        )
        return data if isinstance(data, dict) else {}

    def delete_pod(self, namespace: str, name: str) -> None:
        path = f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(name)}"
        self._call(f"deleting pod {name}", "delete", "pods", namespace, "DELETE", path)

    def access_review(self, namespace: str, permissions: Sequence[Permission]) -> dict[Permission, bool]:
        """The preflight: one SelfSubjectAccessReview per permission (in parallel), the answers by permission.

        A review that cannot be made (old server, an authorizer that refuses even that) leaves its permission
        out: unknown counts as allowed, and the request itself will then say no if it must.
        """

        def ask(p: Permission) -> bool | None:
            body = {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": p.review(namespace)},
            }
            try:
                data = self._call(
                    f"asking whether you may {p.text}",
                    "create",
                    "selfsubjectaccessreviews",
                    namespace,
                    "POST",
                    SSAR_PATH,
                    (),
                    body,
                    "application/json",
                )
            except (StrategyUnavailable, TargetNotFound):
                return None
            allowed = (data.get("status") or {}).get("allowed") if isinstance(data, dict) else None
            return allowed if isinstance(allowed, bool) else None

        if not permissions:
            return {}
        with ThreadPoolExecutor(
            max_workers=min(8, len(permissions)), thread_name_prefix="debugbox-ssar"
        ) as pool:
            answers = list(pool.map(ask, permissions))
        return {p: a for p, a in zip(permissions, answers, strict=True) if a is not None}

    def who_am_i(self) -> str:
        """The user name the API server authenticated (a SelfSubjectReview, GA in 1.28), or "" when it
        won't say."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            data = self._call(
                "asking who you are",
                "create",
                "selfsubjectreviews",
                "",
                "POST",
                SSR_PATH,
                (),
                body,
                "application/json",
            )
        except RuntimeProblem:
            return ""
        user = ((data.get("status") or {}).get("userInfo") or {}) if isinstance(data, dict) else {}
        name = user.get("username") if isinstance(user, dict) else None
        return name if isinstance(name, str) and name.isprintable() and len(name) <= 253 else ""

    def dry_run_ephemeral(self, namespace: str, pod: str, container: dict[str, Any]) -> None:
        """Would the API server add this ephemeral container? Returns, or raises KubeForbidden or
        EphemeralRefused.

        A strategic-merge PATCH with `dryRun=All`, exactly what `kubectl debug` sends minus persistence: RBAC,
        the subresource being served, validation and admission (Pod Security) all answer it.
        """
        self._call(
            f"adding an ephemeral container to pod {pod}",
            "patch",
            "pods/ephemeralcontainers",
            namespace,
            "PATCH",
            f"/api/v1/namespaces/{_seg(namespace)}/pods/{_seg(pod)}/ephemeralcontainers",
            [("dryRun", "All")],
            {"spec": {"ephemeralContainers": [container]}},
            "application/strategic-merge-patch+json",
        )


def _short(exc: BaseException) -> str:
    """urllib3's broken connection as words: `('Connection aborted.', RemoteDisconnected('Remote end closed
    connection without response'))` becomes "the connection was closed without an answer"."""
    text = str(exc)
    if "RemoteDisconnected" in text or "without response" in text:
        return "the connection was closed without an answer"
    if "reset by peer" in text or "ConnectionResetError" in text:
        return "the connection was reset"
    return text


def _seg(name: str) -> str:
    """A path segment; names are validated before they get here, quoting is the belt to those braces."""
    return quote(name, safe="")
