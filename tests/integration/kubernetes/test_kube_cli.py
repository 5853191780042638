"""`debugbox targets` and `debugbox shell pod/...` as a user runs them, against the fake via KUBECONFIG."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from debugbox.core.targets.session import BOOTSTRAP_SCRIPT

from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
from tests.integration.kubernetes.bootstrap_argv import split_session
from tests.integration.kubernetes.conftest import KubeEnv
from tests.integration.kubernetes.test_kube_targets import DEPLOYMENT

pytestmark = pytest.mark.kubernetes


def _kube_targets(out: subprocess.CompletedProcess[str]) -> list[dict]:
    return [t for t in json.loads(out.stdout)["targets"] if t["runtime"] == "kubernetes"]


def test_targets_lists_pods_of_the_namespace_and_of_a_manifest(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("a", "default")
    kube.fake.store.add_pod("web-1", "shop", labels={"app": "web", "tier": "frontend"})

    out = kube.debugbox("targets", "--json")
    assert [t["name"] for t in _kube_targets(out)] == ["a/app"]

    out = kube.debugbox("targets", "--json", "--for", kube.manifest(DEPLOYMENT))
    (target,) = _kube_targets(out)
    assert target["id"] == "k8s://fake/shop/web-1/app" and target["related"] is True

    table = kube.debugbox("targets", "--for", kube.manifest(DEPLOYMENT))
    assert "kubernetes" in table.stdout and "web-1/app" in table.stdout


def test_shell_print_gives_the_argv(kube: KubeEnv) -> None:
    # stdin is not a terminal here, so no TTY is asked for (-i only)
    kube.fake.store.add_namespace("shop", {"pod-security.kubernetes.io/enforce": "restricted"})
    app = {
        "name": "app",
        "image": "gcr.io/distroless/static",
        "securityContext": RESTRICTED_CONTAINER_SECURITY,
    }
    kube.fake.store.add_pod("web-1", "shop", [app])  # a pod that passes its namespace's level

    out = kube.debugbox(
        "shell",
        "pod/web-1/app",
        "-n",
        "shop",
        "--context",
        "fake",
        "--image",
        "busybox:1.36",
        "--print",
    )

    assert out.returncode == 0, out.stderr
    argv, env, command = split_session(json.loads(out.stdout))
    custom = argv.pop(12)  # the target's identity (test_kube_identity.py checks the file)
    assert custom.startswith("--custom=") and custom.endswith(".json")
    assert argv == [
        "kubectl", "debug", "web-1", "-it", "-n", "shop", "--context", "fake",
        "--request-timeout=10s", "--target=app", "--image=busybox:1.36", "--profile=restricted", "-c", "debugbox-app",
    ]  # fmt: skip
    assert command == [] and env["DEBUGBOX_TARGET"] == "web-1/app" and env["DEBUGBOX_ATTACH"] == "1"
    assert env["DEBUGBOX_IDENTITY"].startswith("uid 65532 (")  # the identity --custom gives, in the banner


def test_shell_runs_kubectl_with_a_command(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": "gcr.io/distroless/static"}])

    out = kube.debugbox("shell", "pod/web", "--image", "busybox:1.36", "--", "ps", "aux")

    assert out.returncode == 0, out.stderr
    assert 'Targeting container "app"' in out.stdout
    (patch,) = [r for r in kube.fake.requests_to("PATCH", "/ephemeralcontainers") if not r.q("dryRun")]
    sent = patch.decoded["spec"]["ephemeralContainers"][0]
    assert sent["command"] == ["sh", "-c", BOOTSTRAP_SCRIPT, "debugbox", "ps", "aux"]  # the session, then ps
    assert sent["name"] == "debugbox-app"
    assert {"name": "DEBUGBOX_TARGET", "value": "web/app"} in sent["env"]
    assert patch.user_agent.startswith("kubectl/v1.37.1")


def test_shell_errors_are_one_line(kube: KubeEnv) -> None:
    out = kube.debugbox("shell", "pod/ghost")
    assert out.returncode == 1
    assert out.stderr.strip() == 'debugbox: pods "ghost" not found in namespace default (context fake)'
    out = kube.debugbox("shell", "pod/Bad_Name")
    assert out.returncode == 2 and "not a valid pod name" in out.stderr


def test_without_the_kubernetes_client_one_line_names_what_to_install(kube: KubeEnv) -> None:
    """#13: `pip install debugbox` without the [kubernetes] extra — the import fails as it would there."""
    kube.fake.store.add_pod("web")
    blocked = "import sys; sys.modules['kubernetes'] = None; from debugbox.cli import main; sys.exit(main())"
    env = {**kube.env, "DOCKER_HOST": f"unix://{kube.tmp}/no-docker.sock"}
    for args in (["shell", "pod/web", "--print"], ["targets"]):
        out = subprocess.run(
            [sys.executable, "-c", blocked, *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr and "ModuleNotFoundError" not in out.stderr
        assert "pip install 'debugbox[kubernetes]'" in out.stderr


def test_a_chosen_copy_is_labelled_and_cleanup_removes_only_copies(kube: KubeEnv) -> None:
    """#10 §5 / #13 §5: `--strategy copy` runs kubectl's copy, debugbox labels it, `cleanup` lists and deletes it
    (only with a confirmation), and the original pod and unlabelled pods stay."""
    kube.fake.store.add_pod("web")
    kube.fake.store.add_pod("other-debugbox")  # not ours: no label
    out = kube.debugbox("shell", "pod/web/app", "--strategy", "copy", "--image", "busybox:1.36", "--", "true")
    assert out.returncode == 0, out.stderr
    copy = kube.fake.store.get("default", "web-debugbox")
    assert copy["metadata"]["labels"] == {"debugbox.dev/created-by": "debugbox"}

    listed = kube.debugbox("cleanup")  # no terminal, no --yes: list only
    assert listed.returncode == 1 and "web-debugbox" in listed.stdout and "--yes" in listed.stderr
    assert ("default", "web-debugbox") in kube.fake.store.pods

    done = kube.debugbox("cleanup", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "deleted pod web-debugbox"
    assert (
        len(kube.fake.requests_to("DELETE", "/pods/web-debugbox")) == 1
    )  # only the labelled copy was deleted
    assert ("default", "web") in kube.fake.store.pods and (
        "default",
        "other-debugbox",
    ) in kube.fake.store.pods
