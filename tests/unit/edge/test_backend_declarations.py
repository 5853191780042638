"""The backend declarations of edge/service.py: routing a reference imports no backend, a container backend
is imported without the Kubernetes one, and every module registers exactly what it was declared with."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from debugbox.edge import backends, service


def run_fresh(code: str) -> str:
    """`code` in a new interpreter (sys.modules starts empty there), its stdout."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_a_container_reference_loads_neither_kubernetes_nor_yaml() -> None:
    out = run_fresh(
        """
        import sys
        from debugbox.core.settings import Settings
        from debugbox.edge import service
        from debugbox.edge.backends import create_backends, split_ref
        service.load_backends()
        assert split_ref("pod/web/app").runtime == "kubernetes" and split_ref("k8s://x").runtime == "kubernetes"
        assert split_ref("docker://web").runtime == "docker"
        print(sorted(m for m in sys.modules if m.startswith("debugbox.edge.") and m.endswith("_backend")))
        create_backends(Settings(), ["docker", "podman"])
        print("kube" in " ".join(sys.modules), "yaml" in sys.modules)
        create_backends(Settings(), ["kubernetes"])
        print("debugbox.edge.kube_backend" in sys.modules)
        """
    )
    routed, container, kube = out.splitlines()
    assert routed == "[]"  # routing imported no backend at all
    assert container == "False False"
    assert kube == "True"


def test_every_module_registers_what_it_was_declared_with() -> None:
    service.load_backends()
    backends.create_backends(service.Settings())  # imports every declared module
    for runtime, _module, prefixes, default in service.BACKENDS:
        reg = backends._REGISTRY[runtime]
        assert reg.factory is not None
        assert (reg.prefixes, reg.default) == (prefixes, default)


def test_a_registration_that_contradicts_its_declaration_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_REGISTRY", {})
    backends.declare_backend("toy", "no.such.module", prefixes=("toy://",))
    with pytest.raises(ValueError, match="declared"):
        backends.register_backend("toy", lambda s: None, prefixes=("other://",))  # type: ignore[arg-type,return-value]


def test_a_declared_module_that_is_not_installed_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_REGISTRY", {})
    backends.declare_backend("toy", "debugbox.edge.no_such_backend", prefixes=("toy://",))
    assert backends.create_backends(service.Settings(), ["toy"]) == []
    assert "toy" not in backends.registered_runtimes()
