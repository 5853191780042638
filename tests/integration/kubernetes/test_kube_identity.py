"""A debug container with the target's identity (#13 §2): under Pod Security `restricted` (or a non-root target)
debugbox gives the ephemeral container the target's UID/GID through kubectl's `--custom`, so the kubelet starts
it at the first attempt and the target's files are readable — real CLI, real kubectl 1.37.1, the fake's kubelet
(simulated, and docker-backed for real processes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.conftest import DEBIAN_TOOLBOX, KUBECTL, KubeEnv, batch_options

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


#: A target run as `runAsUser: 65532` without `runAsGroup`, on an image without /etc/passwd: its GID is 0.
BARE_UID_APP = {
    "name": "app",
    "image": "example.com/distroless-app:1",
    "securityContext": {"runAsUser": 65532},
    "env": [{"name": "DBX_GID_PROBE", "value": "from-the-target"}],
}
#: The first line is the Enter kubectl asks for (the bootstrap then shows its banner); then the probe.
GID_SCRIPT = '\necho "ids=$(id -u):$(id -g)" "probe=$DBX_GID_PROBE"; ls /proc/1/root/\nexit\n'


def _gid_session(kube: KubeEnv) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """The bare-UID target's debug session with the Debian toolbox: the plan's notes, and its run through real
    kubectl (the argv debugbox's terminal runs)."""
    kube.fake.store.add_pod("web", "default", [BARE_UID_APP], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    backend = kube.backend()
    options = batch_options(backend.settings, stdin=True, image=DEBIAN_TOOLBOX)
    plan = backend.kube_plan(backend.resolve("web/app"), options).plan
    out = subprocess.run(
        list(plan.argv),
        env=kube.env,
        input=GID_SCRIPT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return plan.notes, out


@pytest.mark.docker
def test_without_run_as_group_the_kubelets_reported_gid_is_used(kube_debian: KubeEnv) -> None:
    """The Debian toolbox has a `nonroot` user (65532:65532): without the GID the kubelet reports as applied to
    the target (0), the debug container would run as 65532:65532 and could not read the target."""
    kube = kube_debian

    notes, out = _gid_session(kube)

    (status,) = kube.fake.store.get("default", "web")["status"]["containerStatuses"]
    assert (status["user"]["linux"]["uid"], status["user"]["linux"]["gid"]) == (65532, 0)
    assert out.returncode == 0, out.stderr
    sc = _debug_patch(kube)["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"]) == (65532, 0)
    assert {"ids=65532:0", "probe=from-the-target"} <= set(out.stdout.split()), out.stdout + out.stderr
    assert {"httpd", "www"} <= set(out.stdout.split())
    assert any("GID 0 (from the kubelet's report)" in n for n in notes), notes
    assert "target uid 65532 gid 0; this session uid 65532 gid 0" in out.stderr
    assert "reopen with --ptrace" not in out.stderr and "not readable" not in out.stderr


@pytest.mark.docker
def test_without_run_as_group_or_a_report_the_gid_is_called_a_guess(kube_debian: KubeEnv) -> None:
    """A node that does not report `user.linux` (before 1.31, or the feature gate off): debugbox says the GID is
    a guess and how to set runAsGroup, and the session's banner names the real cause, not ptrace."""
    kube = kube_debian
    kube.fake.lifecycle.reports_user = False

    notes, out = _gid_session(kube)

    assert "user" not in kube.fake.store.get("default", "web")["status"]["containerStatuses"][0]
    sc = _debug_patch(kube)["securityContext"]
    assert sc["runAsUser"] == 65532 and "runAsGroup" not in sc
    assert any("The GID is a guess" in n and "securityContext.runAsGroup" in n for n in notes), notes
    assert {"ids=65532:65532", "probe="} <= set(out.stdout.split()), out.stdout + out.stderr
    assert "the target runs as 65532:0, this session as 65532:65532" in out.stderr
    assert "a guess" in out.stderr.split("identity", 1)[1].splitlines()[0]  # the banner's identity line
    assert "SYS_PTRACE; reopen with --ptrace" not in out.stderr
