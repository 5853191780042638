"""An API server that stops answering after debugbox's checks passed: one sentence within a bounded time, never a
hang. Real kubectl and the real Python client against the docker-backed fake, reached through its network hop
(`tests/fakes/kube/network.py`), which fails at a chosen request: `refuse` (the API server's process is gone:
connections refused and reset) or `blackhole` (a load balancer that accepts and never answers).

Each run uses `--timeout 2` (the API timeout: kubectl's `--request-timeout`, the watch's two-timeout silence) and
must end within `within(2)`-ish bounds plus process start; without the fixes each of these waited forever.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from debugbox.core.errors import RuntimeUnavailable
from debugbox.edge.kube_client import KubeClient
from debugbox.edge.kubeconfig import load_kubeconfig

from tests.deadlines import returns_within, within
from tests.fakes.kube import RecordedRequest
from tests.integration.kubernetes.conftest import KubeEnv, batch_options, leave_once_running

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

TIMEOUT = 2.0
#: A run's bound: the silence allowed (two timeouts), kubectl's own request timeout, and room for starting
#: Python, kubectl and the pod's containers on a shared machine. A hang (the old behaviour) never ends.
BOUND = within(TIMEOUT) * 3
DISTROLESS = {"name": "app", "image": "example.com/distroless-app:1"}
SAID = (
    "check the connection to the cluster (VPN, proxy, the API server's health), then run the command again."
)


def _kubectl_patch(r: RecordedRequest) -> bool:
    return r.method == "PATCH" and r.path.endswith("/ephemeralcontainers") and r.q("dryRun") is None


def _watch(r: RecordedRequest) -> bool:
    return r.q("watch") == "true"


def _attach(r: RecordedRequest) -> bool:
    return r.path.endswith("/attach")


def _kubectl_create(r: RecordedRequest) -> bool:
    return r.method == "POST" and r.path.endswith("/pods")


def _lost_while_connecting(out: subprocess.CompletedProcess[str]) -> None:
    """The one sentence (exit 3) of a session whose API went silent while kubectl connected to web/app."""
    assert out.returncode == 3 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.splitlines()[-1].startswith(
        "debugbox: the Kubernetes API stopped answering while kubectl was connecting to container app in pod "
        "default/web (nothing for 4 s; last: the Kubernetes API at "
    ), out.stderr
    assert out.stderr.endswith(SAID + "\n")


def _web(kube: KubeEnv) -> None:
    kube.fake.store.add_pod("web", containers=[DISTROLESS], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")


def test_the_network_hop_fails_as_real_clients_see_a_dead_server_or_a_silent_balancer(
    kube_outage: KubeEnv,
) -> None:
    """The fake's failures, as real kubectl and the real Python client meet them: refused at once; silent until
    the client's own timeout (kubectl waits forever without `--request-timeout`)."""
    kube = kube_outage
    _web(kube)
    client = KubeClient(load_kubeconfig([kube.kubeconfig]).context(), TIMEOUT)
    assert client.read_pod("default", "web")["metadata"]["name"] == "web"  # through the hop while it is up

    kube.fake.network.fail("blackhole")
    out = kube.kubectl(["get", "pod", "web", "--request-timeout=2s"], timeout=BOUND)
    # Go says the request's timeout in its own words: "Client.Timeout exceeded" for the GET of the pod, "context
    # deadline exceeded" when kubectl's discovery of the API groups (a cold cache, a slow start) got to it first.
    said = ("Client.Timeout exceeded", "context deadline exceeded")
    assert out.returncode == 1 and any(s in out.stderr for s in said), out.stderr
    with pytest.raises(RuntimeUnavailable, match=r"did not answer within 2 s \(reading pod web\)"):
        returns_within(BOUND, lambda: client.read_pod("default", "web"))


def test_a_refused_connection_is_said_at_once(kube_outage: KubeEnv) -> None:
    kube = kube_outage
    kube.fake.network.fail("refuse")
    out = kube.kubectl(["get", "pod", "web"], timeout=BOUND)
    assert out.returncode == 1 and "connection refused" in out.stderr, out.stderr


@pytest.mark.parametrize(
    ("mode", "at", "strategy"),
    [
        # kubectl's PATCH gets no answer: without --request-timeout it waited forever.
        ("blackhole", _kubectl_patch, "ephemeral"),
        # the server dies while kubectl waits for the container: its watch retried forever.
        ("refuse", _watch, "ephemeral"),
        # the container runs, kubectl dials the attach: the dial has no deadline.
        ("blackhole", _attach, "ephemeral"),
        # the same for a copy: kubectl's POST of the copy, then its attach.
        ("blackhole", _kubectl_create, "copy"),
        ("blackhole", _attach, "copy"),
    ],
    ids=["patch-silent", "watch-refused", "attach-silent", "copy-create-silent", "copy-attach-silent"],
)
def test_shell_ends_in_one_sentence_when_the_api_stops_answering_after_the_checks(
    kube_outage: KubeEnv, mode: str, at: Callable[[RecordedRequest], bool], strategy: str
) -> None:
    kube = kube_outage
    _web(kube)
    kube.fake.network.fail_on(at, mode)
    argv = ["shell", "pod/web", "--image", "busybox:1.36", "--strategy", strategy, "--timeout", "2"]

    started = time.monotonic()
    out = kube.debugbox(*argv, "--", "sh", "-c", "sleep 5; ls /target", timeout=BOUND)

    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    last = out.stderr.splitlines()[-1]
    assert last.startswith("debugbox: ") and last.endswith(SAID), out.stderr
    assert "index.html" not in out.stdout  # the command never ran to its end through a dead API
    assert time.monotonic() - started < BOUND


def test_a_silent_api_while_attaching_from_an_editor_terminal_is_one_sentence(kube_outage: KubeEnv) -> None:
    """`debugbox session` (what editor terminals run) is supervised the same way: exit 3, so `--hold` keeps
    the sentence."""
    kube = kube_outage
    _web(kube)
    backend = kube.backend(timeout_seconds=TIMEOUT)
    plan = backend.kube_plan(
        backend.resolve("web/app"), batch_options(backend.settings, command=["sleep", "5"])
    ).plan
    kube.fake.network.fail_on(_attach, "blackhole")

    out = subprocess.run(
        [sys.executable, "-m", "debugbox", "session", "--timeout", "2", "--watch", json.dumps(plan.watch),
         "--", *plan.argv],
        env={**kube.env, "XDG_CACHE_HOME": str(kube.tmp / "cache")},
        capture_output=True, text=True, timeout=BOUND, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert out.returncode == 3, out.stderr
    # "attaching to" when a poll of the watch (every 0.5 s) came between the container running and kubectl's
    # attach, which silences the API; otherwise the watch never saw it run: "waiting for" (seen once on a loaded
    # machine, in a run of the whole Kubernetes suite).
    last = out.stderr.splitlines()[-1]
    assert re.match(
        "debugbox: the Kubernetes API stopped answering while kubectl was (attaching to|waiting for) debug "
        r"container debugbox-app in pod default/web \(nothing for 4 s; last: the Kubernetes API at ",
        last,
    ), out.stderr


def test_an_exec_into_a_container_with_a_shell_ends_in_one_sentence_when_the_api_goes_silent(
    kube_outage: KubeEnv,
) -> None:
    """`exec` (the image is known to have a shell): kubectl's exec dial waited forever, in raw mode on a terminal,
    where Ctrl-C is only a byte."""
    kube = kube_outage
    app = {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    kube.fake.store.add_pod("web", containers=[app], docker=True)
    kube.fake.wait_for("default", "web", lambda p: p["status"].get("phase") == "Running")
    healthy = kube.debugbox("shell", "pod/web", "--timeout", "2", "--", "sh", "-c", "exit 5", timeout=BOUND)
    assert healthy.returncode == 5, healthy.stderr  # watched, the command's status is still the session's
    kube.fake.network.fail_on(lambda r: r.path.endswith("/exec"), "blackhole")

    out = kube.debugbox("shell", "pod/web", "--timeout", "2", "--", "ls", "/", timeout=BOUND)

    _lost_while_connecting(out)


def test_forward_whose_tunnel_gets_no_answer_ends_in_one_sentence(kube_outage: KubeEnv) -> None:
    """`debugbox forward pod/…`: kubectl's tunnel dial has no deadline; it waited forever under "Ctrl-C stops"
    while nothing listened on the local port. The default API timeout (10 s): the silence allowed is 20 s."""
    kube = kube_outage
    _web(kube)
    kube.fake.network.fail_on(lambda r: r.path.endswith("/portforward"), "blackhole")

    out = kube.debugbox("forward", "pod/web", "8080", timeout=within(10.0))

    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.splitlines()[-1].startswith(
        "debugbox: the Kubernetes API stopped answering while kubectl was forwarding to pod default/web "
        "(nothing for 20 s; last: the Kubernetes API at "
    ), out.stderr


def test_a_reattach_from_an_editor_terminal_ends_in_one_sentence_when_the_api_goes_silent(
    kube_outage: KubeEnv,
) -> None:
    """A second terminal on a pod whose debug container runs reattaches (`kubectl attach`, no new container): the
    editor's terminal runs it under `debugbox session --connect`, as it does an exec; its dial has no deadline."""
    kube = kube_outage
    _web(kube)
    backend = kube.backend(timeout_seconds=TIMEOUT)
    first = backend.kube_plan(backend.resolve("web/app"), batch_options(backend.settings, stdin=True)).plan
    leave_once_running(kube, first.argv, "web", "debugbox-app", within=BOUND)
    again = backend.kube_plan(backend.resolve("web/app"), batch_options(backend.settings, stdin=True)).plan
    assert again.strategy == "reattach" and again.connect is not None and not again.watch
    kube.fake.network.fail_on(_attach, "blackhole")

    out = subprocess.run(
        [sys.executable, "-m", "debugbox", "session", "--timeout", "2", "--connect", again.connect,
         "--", *again.argv],
        env={**kube.env, "XDG_CACHE_HOME": str(kube.tmp / "cache")},
        capture_output=True, text=True, timeout=BOUND, stdin=subprocess.DEVNULL,
    )  # fmt: skip

    _lost_while_connecting(out)
