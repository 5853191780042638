"""A debug container with the target's identity (#13 §2): under Pod Security `restricted` (or a non-root target)
debugbox gives the ephemeral container the target's UID/GID through kubectl's `--custom`, so the kubelet starts
it at the first attempt and the target's files are readable — real CLI, real kubectl 1.37.1, the fake's kubelet
(simulated, and docker-backed for real processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv

pytestmark = pytest.mark.kubernetes

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


def _restricted_pod(kube: KubeEnv, image: str = "app:1", **kw: object) -> None:
    kube.fake.store.add_namespace("shop", RESTRICTED)
    app = {"name": "app", "image": image, "securityContext": RESTRICTED_CONTAINER_SECURITY}
    kube.fake.store.add_pod("web", "shop", [app], **kw)  # type: ignore[arg-type]


def _debug_patch(kube: KubeEnv) -> dict:
    (patch,) = [
        r for r in kube.fake.requests_to("PATCH", "/ephemeralcontainers") if "kubectl" in r.user_agent
    ]
    (container,) = patch.decoded["spec"]["ephemeralContainers"]
    return container


def test_restricted_namespace_with_a_root_toolbox_starts_at_the_first_attempt(kube: KubeEnv) -> None:
    _restricted_pod(kube)
    # nicolaka/netshoot, the default toolbox, runs as root (unknown images do in the fake's image table)
    out = kube.debugbox("shell", "pod/web/app", "-n", "shop", "--image", "nicolaka/netshoot", "--", "true")
    assert out.returncode == 0, out.stderr
    sc = _debug_patch(kube)["securityContext"]
    assert sc["runAsUser"] == 65532 and sc["runAsNonRoot"] is True and "runAsGroup" not in sc
    (status,) = kube.fake.store.get("shop", "web")["status"]["ephemeralContainerStatuses"]
    assert "running" in status["state"], status


def test_print_references_a_spec_file_that_stays_and_works_when_pasted(kube: KubeEnv) -> None:
    _restricted_pod(kube)
    out = kube.debugbox("shell", "pod/web/app", "-n", "shop", "--image", "nicolaka/netshoot", "--print")
    assert out.returncode == 0, out.stderr
    argv = json.loads(out.stdout)
    (custom,) = [a for a in argv if a.startswith("--custom=")]
    path = Path(custom.removeprefix("--custom="))
    assert path.is_relative_to(kube.tmp / "cache" / "debugbox" / "kubectl-debug")  # the user's cache dir
    assert json.loads(path.read_text()) == {"securityContext": {"runAsUser": 65532}}
    # Pasted later (the debugbox process is long gone): run it, without the terminal flags.
    pasted = [str(KUBECTL) if a == "kubectl" else a for a in argv if a != "-it"]
    ran = kube.kubectl(pasted)
    assert ran.returncode == 0, ran.stderr
    kube.fake.wait_for(
        "shop",
        "web",
        lambda p: any("running" in s["state"] for s in p["status"].get("ephemeralContainerStatuses", [])),
    )


def test_a_non_root_target_gives_its_uid_and_says_which_tools_need_root(kube: KubeEnv) -> None:
    app = {"name": "app", "image": "app:1", "securityContext": {"runAsUser": 1000, "runAsGroup": 3000}}
    kube.fake.store.add_pod("web", "default", [app])
    out = kube.debugbox("shell", "pod/web/app", "--image", "busybox:1.36", "--", "true")
    assert out.returncode == 0, out.stderr
    sc = _debug_patch(kube)["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"]) == (1000, 3000)
    assert sc["capabilities"] == {"add": ["SYS_PTRACE"]}  # the general profile, under the custom identity


@pytest.mark.docker
def test_restricted_target_as_65532_lists_its_files(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    _restricted_pod(kube, "example.com/distroless-nonroot:1", docker=True)
    script = "id -u; ls /proc/1/root/\nexit\n"
    out = kube.debugbox(
        "shell", "pod/web/app", "-n", "shop", "--image", "busybox:1.36", "--", "sh", stdin=script
    )
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    assert "65532" in words, out.stdout  # `id -u` in the debug container
    assert "httpd" in words and "www" in words, (
        out.stdout + out.stderr
    )  # the target's root filesystem, as its own user
