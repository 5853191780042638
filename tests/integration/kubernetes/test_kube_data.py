# ruff: noqa: F811 - the fixture `host_tcpdump` is imported from test_capture and named as a parameter
"""Data in and out of a shell-less pod through debugbox's debug container (issue #15 for pods): `debugbox cp`,
`debugbox capture` and `debugbox forward` as a user runs them, with real kubectl against the docker-backed fake
(real containers behind `kubectl exec` over the websocket v5 protocol)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from debugbox.core.targets.debug_failures import CHECK_CONNECTION

from tests.deadlines import within
from tests.fakes.kube import FakeKubeAPIServer, RecordedRequest
from tests.integration.docker.test_capture import host_tcpdump  # noqa: F401 - a fixture
from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

DISTROLESS = "example.com/distroless-app:1"
#: The distroless test image's only file besides its server.
FIXTURE_INDEX = (
    Path(__file__).resolve().parents[2] / "fixtures" / "images" / "distroless-app" / "www" / "index.html"
).read_bytes()
#: A name with spaces and non-ASCII letters, as the issue asks.
ODD_NAME = "rapport final — été 2026.bin"


def _pod(kube: KubeEnv, name: str = "web") -> None:
    kube.fake.store.add_pod(name, containers=[{"name": "app", "image": DISTROLESS}], docker=True)


def _patches(kube: KubeEnv) -> int:
    """Real writes of an ephemeral container (the plan's dry run, `dryRun=All`, writes nothing)."""
    sent = kube.fake.requests_to("PATCH", "/pods/web/ephemeralcontainers")
    return len([r for r in sent if not r.query.get("dryRun")])


def test_cp_needs_consent_before_adding_a_debug_container(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    _pod(kube)
    local = kube.tmp / "in.txt"
    local.write_bytes(b"x")
    out = kube.debugbox("cp", str(local), "pod/web:/www/", "--image", "busybox:1.36")
    assert out.returncode == 1
    assert "--yes" in out.stderr and "cannot be removed" in out.stderr and "Traceback" not in out.stderr
    assert _patches(kube) == 0  # nothing was written to the cluster
    assert not kube.fake.store.get("default", "web")["spec"].get("ephemeralContainers")


def _role_yaml(stderr: str) -> list[dict]:
    text = stderr[stderr.index("apiVersion: rbac.authorization.k8s.io/v1") :]
    return [d for d in yaml.safe_load_all(text) if d]


def test_cp_asks_rbac_for_what_it_needs_before_adding_a_debug_container(kube_docker: KubeEnv) -> None:
    """A data command's debug container is created without attaching, then used through `kubectl exec`: what it
    needs is `get pods`, `patch pods/ephemeralcontainers`, `create pods/exec` (docs). Without `pods/exec` it adds
    nothing (the container could never be removed, and the copy could not be made through it) and prints the
    Role; that Role (no list, watch or attach) lets the copy through."""
    kube = kube_docker
    _pod(kube)
    kube.fake.rbac.allow("alice", ["get"], ["pods"], namespaces=["default"])
    kube.fake.rbac.allow("alice", ["patch"], ["pods/ephemeralcontainers"], namespaces=["default"])
    kube.login("alice")
    args = ("cp", "pod/web:/www/index.html", str(kube.tmp / "index.html"), "--image", "busybox:1.36", "--yes")

    denied = kube.debugbox(*args)

    assert denied.returncode == 1 and "Traceback" not in denied.stderr
    assert "create pods/exec" in denied.stderr.splitlines()[0], denied.stderr
    assert _patches(kube) == 0
    docs = _role_yaml(denied.stderr)
    assert {r["resources"][0]: r["verbs"] for r in docs[0]["rules"]} == {"pods/exec": ["create"]}
    kube.fake.rbac.apply(docs)

    granted = kube.debugbox(*args)

    assert granted.returncode == 0, granted.stderr
    assert (kube.tmp / "index.html").read_bytes() == FIXTURE_INDEX
    assert _patches(kube) == 1


def test_cp_and_capture_on_a_crash_looping_container_point_to_a_command_that_exists(kube: KubeEnv) -> None:
    """The data commands have no `--strategy copy`: when only a copy would do, the sentence names the
    `debugbox shell … --strategy copy` that makes one, not "use copy"."""
    crash = {"phase": "Running", "containerStatuses": [
        {"name": "app", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    ]}  # fmt: skip
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": DISTROLESS}], status=crash)

    for args in (
        ["cp", "pod/web:/www/index.html", str(kube.tmp / "x")],
        ["capture", "pod/web", "-o", str(kube.tmp / "x.pcap")],
    ):
        out = kube.debugbox(*args, "--yes", "--image", "busybox:1.36")
        assert out.returncode == 1 and "Traceback" not in out.stderr
        (line,) = out.stderr.splitlines()
        assert "crash-looping" in line and not line.endswith("use copy"), line
        assert line.endswith("debugbox shell pod/web/app -n default --context fake --strategy copy"), line
    assert _patches(kube) == 0


def test_a_local_refusal_comes_before_any_debug_container_is_added(kube_docker: KubeEnv) -> None:
    """With --yes, a copy whose local side is refused whatever the pod holds (no such local folder, a FIFO to
    upload, a link as destination) adds nothing to the pod: the debug container can never be removed."""
    kube = kube_docker
    _pod(kube)
    folder = kube.tmp / "a folder"
    folder.mkdir()
    (kube.tmp / "link").symlink_to(folder)
    os.mkfifo(kube.tmp / "fifo")
    for args, said in (
        (["pod/web:/www/index.html", str(kube.tmp / "missing" / "x")], "is not an existing folder"),
        ([str(kube.tmp / "fifo"), "pod/web:/www/"], "is not a regular file or folder"),
        (["pod/web:/www/index.html", str(kube.tmp / "link")], "is a symbolic link"),
    ):
        out = kube.debugbox("cp", *args, "--image", "busybox:1.36", "--yes")
        assert out.returncode == 1 and said in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert _patches(kube) == 0
    assert not kube.fake.store.get("default", "web")["spec"].get("ephemeralContainers")


def test_a_capture_output_that_cannot_be_written_adds_no_debug_container(kube_docker: KubeEnv) -> None:
    """With --yes, `capture -o` onto an existing file, a folder or into a missing folder is refused before the
    debug container is added (it was added first, then the capture refused: a container that cannot be
    removed, for nothing)."""
    kube = kube_docker
    _pod(kube)
    (kube.tmp / "old.pcap").write_bytes(b"keep")
    (kube.tmp / "a folder").mkdir()
    for output, said in (
        ("old.pcap", "exists: pass --force"),
        ("a folder", "is a folder"),
        ("missing/web.pcap", "is not an existing folder"),
    ):
        argv = ["capture", "pod/web", "--duration", "1", "-o", str(kube.tmp / output), "--yes"]
        out = kube.debugbox(*argv, "--image", "busybox:1.36")
        assert out.returncode == 1 and said in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert _patches(kube) == 0, output
    assert (kube.tmp / "old.pcap").read_bytes() == b"keep"
    assert not kube.fake.store.get("default", "web")["spec"].get("ephemeralContainers")


def test_the_first_cp_after_consent_checks_the_target_at_once_instead_of_watching_for_it(
    kube_docker: KubeEnv,
) -> None:
    """The debug container just added is waited for until it runs, then the bootstrap's `--target` check runs
    in it through `kubectl exec` (`kube_data.check_target`): no watching it for `TARGET_CHECK_SECONDS` (one pod
    read every `POLL_SECONDS`, some 20 reads) to see its own check end it."""
    from debugbox.edge.kube_watch import POLL_SECONDS, TARGET_CHECK_SECONDS

    kube = kube_docker
    _pod(kube)
    dest = kube.tmp / "index.html"
    out = kube.debugbox("cp", "pod/web:/www/index.html", str(dest), "--image", "busybox:1.36", "--yes")
    assert out.returncode == 0, out.stderr
    assert dest.read_bytes() == FIXTURE_INDEX

    assert 0 < watched_before_checking(kube.fake) <= TARGET_CHECK_SECONDS / POLL_SECONDS / 2


def watched_before_checking(fake: FakeKubeAPIServer, pod: str = "web") -> int:
    """How many times debugbox read the pod (the kubernetes client, not kubectl) between adding its debug
    container and the bootstrap's `--target` check, after asserting that the check ran once, before the first
    data command in it (whose own watch may read the pod once kubectl runs: `kube_watch.watch_stream`)."""
    sent = fake.requests
    (patch,) = [
        i
        for i, r in enumerate(sent)
        if r.path.endswith(f"/pods/{pod}/ephemeralcontainers") and not r.q("dryRun")
    ]
    execs = [
        (i, " ".join(r.query.get("command") or []))
        for i, r in enumerate(sent)
        if r.path.endswith(f"/pods/{pod}/exec")
    ]
    data = next(i for i, command in execs if "debugbox-data" in command)
    checks = [i for i, command in execs if "DEBUGBOX_EXPECT_TARGET=1" in command]
    assert len(checks) == 1 and patch < checks[0] < data, (checks, patch, data)
    reads = [
        i
        for i, r in enumerate(sent[patch : checks[0]], patch)
        if r.method == "GET"
        and r.path.endswith(f"/pods/{pod}")
        and r.user_agent.startswith("OpenAPI-Generator/")
    ]
    assert reads, "the debug container was not waited for"
    return len(reads)


def test_cp_round_trips_a_binary_file_with_an_odd_name_both_ways(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    _pod(kube)
    # 100 MB (the size; about 4 s each way through the fake) ending in what a TTY would mangle.
    data = os.urandom(100 * 1024 * 1024) + b"\r\n\x00\x1b[0m\n\r\x03\x04"
    src = kube.tmp / ODD_NAME
    src.write_bytes(data)

    out = kube.debugbox("cp", str(src), "pod/web/app:/www", "--image", "busybox:1.36", "--yes")
    assert out.returncode == 0, out.stderr
    assert f"/www/{ODD_NAME}" in out.stderr and "debugbox-app" in out.stderr
    assert _patches(kube) == 1
    spec = kube.fake.store.get("default", "web")["spec"]["ephemeralContainers"][0]
    assert spec["name"] == "debugbox-app" and spec["targetContainerName"] == "app"

    back = kube.tmp / "back"
    back.mkdir()
    out = kube.debugbox("cp", f"pod/web:/www/{ODD_NAME}", str(back))
    assert out.returncode == 0, out.stderr
    assert (back / ODD_NAME).read_bytes() == data
    del data
    assert _patches(kube) == 1  # the running debug container was reused, without asking

    # No overwrite without --force, on either side; with it, both replace.
    out = kube.debugbox("cp", f"pod/web:/www/{ODD_NAME}", str(back))
    assert out.returncode == 1 and "--force" in out.stderr
    out = kube.debugbox("cp", str(src), f"pod/web:/www/{ODD_NAME}")
    assert out.returncode == 1 and "exists in the target" in out.stderr and "--force" in out.stderr
    src.write_bytes(b"second version\n")
    out = kube.debugbox("cp", str(src), f"pod/web:/www/{ODD_NAME}", "--force")
    assert out.returncode == 0, out.stderr
    out = kube.debugbox("cp", f"pod/web:/www/{ODD_NAME}", str(back / ODD_NAME), "--force")
    assert out.returncode == 0, out.stderr
    assert (back / ODD_NAME).read_bytes() == b"second version\n"
    # The target's own server sees the uploaded file: it landed in the target's filesystem, not the toolbox's.
    name = ODD_NAME.replace(" ", "%20")
    served = subprocess.run(
        [str(KUBECTL), "exec", "web", "-c", "debugbox-app", "--", "wget", "-qO-", f"http://127.0.0.1:8080/{name}"],
        env=kube.env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert served.stdout == b"second version\n", served.stderr


def test_cp_failures_are_one_sentence(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    _pod(kube)
    dest = kube.tmp / "out"
    dest.mkdir()
    out = kube.debugbox("cp", "pod/web:/nope/missing", str(dest), "--image", "busybox:1.36", "--yes")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == "debugbox: /nope/missing does not exist in the target"
    assert list(dest.iterdir()) == []  # nothing half-written
    # Folders go in too: `test_kube_folder_upload.py`.
    local = kube.tmp / "f.txt"
    local.write_text("hello")
    out = kube.debugbox("cp", str(local), "pod/web:/no-such-folder/f.txt")
    assert out.returncode == 1 and "folder of /no-such-folder/f.txt does not exist" in out.stderr
    # An absolute link in the target would resolve in the debug container under /proc/<pid>/root: refused.
    made = kube.kubectl(["exec", "web", "-c", "debugbox-app", "--", "ln", "-s", "/www", "/proc/1/root/site"])
    assert made.returncode == 0, made.stderr
    out = kube.debugbox("cp", "pod/web:/site/index.html", str(dest))
    assert out.returncode == 1 and "/site is a symbolic link in the target" in out.stderr, out.stderr
    out = kube.debugbox("cp", str(local), "pod/web:/site/f.txt")
    assert out.returncode == 1 and "/site is a symbolic link in the target" in out.stderr, out.stderr
    assert list(dest.iterdir()) == [] and "Traceback" not in out.stderr


def _pod_with_a_file(kube: KubeEnv, size: int) -> Path:
    """`web` with debugbox's debug container and `size` random bytes at /www/big.bin; an empty local folder."""
    _pod(kube)
    src = kube.tmp / "big.bin"
    src.write_bytes(os.urandom(size))
    out = kube.debugbox("cp", str(src), "pod/web/app:/www", "--image", "busybox:1.36", "--yes")
    assert out.returncode == 0, out.stderr
    dest = kube.tmp / "back"
    dest.mkdir()
    return dest


def _exec(r: RecordedRequest) -> bool:
    return r.path.endswith("/exec")


def test_cp_whose_api_goes_silent_mid_copy_ends_in_one_sentence(kube_outage: KubeEnv) -> None:
    """A copy out over a slow link whose API goes silent 1 s in (a load balancer that stops answering): kubectl's
    stream waits forever, and only the idle deadline (six API timeouts, 60 s by default) ended it. Now the
    sessions' bound: two API timeouts without a byte or an answer (`--timeout 2`: 4 s)."""
    kube = kube_outage
    dest = _pod_with_a_file(kube, 8 * 1024 * 1024)
    kube.fake.network.slow(1024 * 1024)  # 8 s for the whole file
    kube.fake.network.fail_on(_exec, "blackhole", after=1.0)

    out = kube.debugbox("cp", "pod/web:/www/big.bin", str(dest), "--timeout", "2", timeout=within(2.0) * 2)

    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "debugbox: the copy of /www/big.bin was stopped and is incomplete: the Kubernetes API stopped answering "
        "while kubectl was copying through debug container debugbox-app in pod default/web (nothing for 4 s; "
        "last: the Kubernetes API at "
    ), out.stderr
    assert last.endswith(CHECK_CONNECTION), out.stderr
    assert list(dest.iterdir()) == []  # nothing half-written


def test_a_slow_pod_copy_is_not_cut_while_its_bytes_move(kube_outage: KubeEnv) -> None:
    """A copy over a slow link (12 s) while the API server, overloaded, answers no read within the API timeout
    (`--timeout 1`; the copy's stream, already open, moves on): the bytes are the API's answers, so the copy is
    whole — a watch that only read the pod would have cut it after two timeouts."""
    kube = kube_outage
    dest = _pod_with_a_file(kube, 6 * 1024 * 1024)
    kube.fake.network.slow(512 * 1024)
    copying = threading.Thread(target=_overloaded_once_copying, args=(kube,), daemon=True)
    copying.start()

    out = kube.debugbox("cp", "pod/web:/www/big.bin", str(dest), "--timeout", "1", timeout=within(12.0))

    copying.join(timeout=5)
    kube.fake.faults.delay_seconds = 0.0
    assert out.returncode == 0, out.stderr
    assert (dest / "big.bin").read_bytes() == (kube.tmp / "big.bin").read_bytes()


def _overloaded_once_copying(kube: KubeEnv) -> None:
    """Once the copy's `kubectl exec` was asked for, every later request is answered 3 s late."""
    seen = len(kube.fake.requests)
    deadline = time.monotonic() + 60
    while not any(_exec(r) for r in kube.fake.requests[seen:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    kube.fake.faults.delay_seconds = 3.0


def test_cp_copies_a_folder_out_of_a_pod_as_a_containers_folder_copy_lands(kube_docker: KubeEnv) -> None:
    """The debug container's busybox `tar` (links kept as links) through `kubectl exec`, landed by the containers'
    landing code: nested files, a binary file and an odd name byte for byte, links leaving the folder skipped."""
    kube = kube_docker
    _pod(kube)
    folder = "/dossier été"
    mkdir = ["exec", "web", "-c", "debugbox-app", "--", "mkdir", "-p", f"/proc/1/root{folder}/sub/deeper"]
    # The first cp adds the debug container (with consent); the tree is then made and filled through it.
    warm = kube.debugbox(
        "cp", "pod/web:/www/index.html", str(kube.tmp / "warm"), "--image", "busybox:1.36", "--yes"
    )
    assert warm.returncode == 0, warm.stderr
    assert kube.kubectl(mkdir).returncode == 0
    up = kube.tmp / "up"
    files = {
        ODD_NAME: os.urandom(3 * 1024 * 1024) + b"\r\n\x00\x1b[0m\n\r\x03\x04",
        "sub/a.txt": b"nested\r\n",
        "sub/deeper/empty": b"",
        "sub/deeper/b.bin": bytes(range(256)) * 64,
    }
    for rel, data in files.items():
        (up / rel).parent.mkdir(parents=True, exist_ok=True)
        (up / rel).write_bytes(data)
        sent = kube.debugbox("cp", str(up / rel), f"pod/web:{folder}/{rel}")
        assert sent.returncode == 0, sent.stderr
    for link, to in (("abs", "/etc"), ("sub/up", "../../www/index.html")):
        made = kube.kubectl(
            ["exec", "web", "-c", "debugbox-app", "--", "ln", "-s", to, f"/proc/1/root{folder}/{link}"]
        )
        assert made.returncode == 0, made.stderr

    down = kube.tmp / "down"
    down.mkdir()
    out = kube.debugbox("cp", f"pod/web:{folder}", str(down))
    assert out.returncode == 0, out.stderr
    landed = down / folder[1:]
    for rel, data in files.items():
        assert (landed / rel).read_bytes() == data, rel
    assert "4 file(s), 3 folder(s)" in out.stderr
    # Links leaving the folder (absolute or `..`) are skipped and said, as for a container: never created here.
    assert out.stderr.count("a link, not copied") == 2, out.stderr
    assert not os.path.lexists(landed / "abs") and not os.path.lexists(landed / "sub" / "up")

    # To a new name, the folder takes it (`cp -r`); onto a file, refused in one sentence.
    renamed = kube.debugbox("cp", f"pod/web:{folder}/sub", str(kube.tmp / "renamed"))
    assert renamed.returncode == 0, renamed.stderr
    assert (kube.tmp / "renamed" / "deeper" / "b.bin").read_bytes() == files["sub/deeper/b.bin"]
    onto = kube.debugbox("cp", f"pod/web:{folder}", str(kube.tmp / "warm"))
    assert onto.returncode == 1 and "is a file" in onto.stderr and "Traceback" not in onto.stderr

    # An existing destination: its files are kept without --force (each said), replaced with it.
    (landed / "sub" / "a.txt").write_bytes(b"my own work")
    kept = kube.debugbox("cp", f"pod/web:{folder}", str(down))
    assert kept.returncode == 0 and "exists (--force replaces it)" in kept.stderr, kept.stderr
    assert (landed / "sub" / "a.txt").read_bytes() == b"my own work"
    forced = kube.debugbox("cp", f"pod/web:{folder}", str(down), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (landed / "sub" / "a.txt").read_bytes() == files["sub/a.txt"]

    # A missing folder: one sentence, nothing left behind.
    fresh = kube.tmp / "fresh"
    fresh.mkdir()
    missing = kube.debugbox("cp", f"pod/web:{folder}/nope/", str(fresh))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"debugbox: {folder}/nope does not exist in the target"
    assert list(fresh.iterdir()) == [] and "Traceback" not in missing.stderr


@pytest.fixture(scope="module")
def debian_toolbox_tag() -> str:
    """The Debian toolbox (real tcpdump) on the Docker engine, as `tests/integration/docker` builds it."""
    from tests.conftest import require
    from tests.integration.toolbox_debs import ensure_toolbox

    try:
        return ensure_toolbox(("docker",))
    except (subprocess.CalledProcessError, OSError) as exc:
        require(False, f"the Debian toolbox could not be built (scripts/download-toolbox-debs.sh): {exc}")
        raise


@pytest.mark.parametrize(
    ("namespace", "security", "said"),
    [
        ("locked", "restricted", "enforces Pod Security restricted"),
        ("default", {"runAsUser": 65532}, "it would run as uid 65532"),
    ],
)
def test_capture_that_could_not_open_a_raw_socket_adds_no_debug_container(
    kube: KubeEnv, namespace: str, security: object, said: str
) -> None:
    """tcpdump needs a raw socket (NET_RAW): the restricted profile drops every capability and a debug container
    running as a non-root target's UID holds none (tcpdump as 65532, or as root with `--cap-drop ALL`: "You don't
    have permission to perform this capture"). Said before the question, so nothing that stays in the pod for
    good is added for a capture that cannot work."""
    from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY

    if security == "restricted":
        kube.fake.store.add_namespace(namespace, {"pod-security.kubernetes.io/enforce": "restricted"})
        security = RESTRICTED_CONTAINER_SECURITY
    app = {"name": "app", "image": "gcr.io/distroless/static", "securityContext": security}
    kube.fake.store.add_pod("web", namespace, [app])
    pcap = kube.tmp / "x.pcap"

    out = kube.debugbox(
        "capture", "pod/web", "-n", namespace, "--yes", "-o", str(pcap), "--image", "busybox:1.36"
    )

    assert out.returncode == 1 and "Traceback" not in out.stderr
    (line,) = out.stderr.splitlines()
    assert "tcpdump needs raw sockets" in line and said in line and "nothing was added" in line, line
    assert _patches(kube) == 0  # the plan's dry run only, which writes nothing
    assert not pcap.exists()


def test_capture_of_a_pods_traffic_is_a_pcap_the_hosts_tcpdump_reads(
    kube_docker: KubeEnv,
    debian_toolbox_tag: str,
    host_tcpdump: str,
) -> None:
    import threading

    from tests.fakes.kube import ImageSpec
    from tests.integration.capture_checks import assert_valid_capture

    kube = kube_docker
    toolbox = "example.com/debian-toolbox:1"
    kube.fake.images[toolbox] = ImageSpec(docker_image=debian_toolbox_tag)
    _pod(kube)
    pcap = kube.tmp / "web.pcap"
    stop = threading.Event()

    def requests() -> None:
        # The fake's pods have only loopback; the request is made inside the pod, to the target's port.
        while not stop.wait(0.5):
            kube.kubectl(["exec", "web", "-c", "debugbox-app", "--", "curl", "-s", "http://127.0.0.1:8080/"])

    argv = ["capture", "pod/web", "--duration", "8", "-o", str(pcap), "--image", toolbox, "--yes"]
    load = threading.Thread(target=requests, daemon=True)
    load.start()
    try:
        out = kube.debugbox(*argv, "--filter", "tcp port 8080", timeout=180)
    finally:
        stop.set()
        load.join(timeout=30)
    assert out.returncode == 0, out.stderr
    assert_valid_capture(pcap, out.stderr, host_tcpdump)
    # tcpdump stopped with the capture: nothing of it runs on in the debug container.
    ps = kube.kubectl(["exec", "web", "-c", "debugbox-app", "--", "ps", "-eo", "comm"])
    assert "tcpdump" not in ps.stdout, ps.stdout
    again = kube.debugbox(*argv)
    assert again.returncode == 1 and "--force" in again.stderr


def test_capture_whose_api_goes_silent_ends_in_one_sentence_not_an_empty_pcap(kube_outage: KubeEnv) -> None:
    """`debugbox capture pod/…` (also what the editor's Capture Traffic runs) whose `kubectl exec` gets no answer:
    it said "capturing …; Ctrl-C stops" and waited forever, and a Ctrl-C or a `--duration` then ended it with
    exit 0 and an empty pcap, as if there had been no traffic. Now two API timeouts (the default 10 s: 20 s)."""
    kube = kube_outage
    _pod_with_a_file(kube, 16)  # debugbox's debug container runs
    kube.fake.network.fail_on(_exec, "blackhole")
    pcap = kube.tmp / "web.pcap"

    out = kube.debugbox("capture", "pod/web", "-o", str(pcap), timeout=within(10.0))

    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "debugbox: the capture was stopped: the Kubernetes API stopped answering while kubectl was capturing in "
        "debug container debugbox-app in pod default/web (nothing for 20 s; last: the Kubernetes API at "
    ), out.stderr
    assert last.endswith(CHECK_CONNECTION) and not pcap.exists(), out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _forward(kube: KubeEnv, *args: str) -> subprocess.Popen[str]:
    """`debugbox forward` as a user runs it: in the foreground until a signal."""
    return subprocess.Popen(
        [sys.executable, "-m", "debugbox", "forward", *args],
        env={**kube.env, "DOCKER_HOST": f"unix://{kube.tmp}/no-docker.sock"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _fetch(port: int) -> bytes:
    """GET / on the local port, once kubectl listens there."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as resp:
                assert resp.status == 200
                return bytes(resp.read())
        except (ConnectionRefusedError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of processes on this machine containing `text` (to show nothing is left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


def test_forward_reaches_ports_inside_a_pod_including_one_bound_to_its_loopback(kube_docker: KubeEnv) -> None:
    """Bytes through real kubectl port-forward: the fake's kubelet connects inside the pod's network namespace
    (the pods have loopback only), so the app's 8080 and a server bound to 127.0.0.1:9090 alone answer here;
    Ctrl-C and SIGTERM end the forward and leave nothing running."""
    kube = kube_docker
    loopback_only = {
        "name": "sidecar",
        "image": DISTROLESS,
        "command": ["/httpd"],
        "args": ["-f", "-p", "127.0.0.1:9090", "-h", "/www"],
    }
    kube.fake.store.add_namespace("shop", {})
    kube.fake.store.add_pod(
        "web-1", "shop", containers=[{"name": "app", "image": DISTROLESS}, loopback_only], docker=True
    )
    for port, sig in ((8080, signal.SIGINT), (9090, signal.SIGTERM)):
        local = _free_port()
        proc = _forward(kube, "pod/web-1", str(port), "--local", str(local), "-n", "shop")
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline().strip()
            assert first.startswith("debugbox: forwarding with ") and first.endswith("; Ctrl-C stops"), first
            argv = (
                f"port-forward pod/web-1 {local}:{port} -n shop --context fake --request-timeout=10s "
                "--address 127.0.0.1"
            )
            assert argv in first
            for _ in range(2):  # two connections: two stream pairs on kubectl's one SPDY connection
                assert _fetch(local) == FIXTURE_INDEX
        finally:
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert f"Forwarding from 127.0.0.1:{local} -> {port}" in out
        assert "Traceback" not in err
        assert not _processes_mentioning(f"{local}:{port}")  # kubectl ended with debugbox
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", local), timeout=5).close()
    # What kubectl sent: the websocket tunnel (a GET, no SPDY POST fallback), then per local connection an
    # error stream and a data stream naming the remote port and one request id.
    forward = "/api/v1/namespaces/shop/pods/web-1/portforward"
    assert [r.method for r in kube.fake.requests if r.path == forward] == ["GET", "GET"]
    for session, port in zip(kube.fake.portforward_sessions, (8080, 9090), strict=True):
        assert not session.refused and not session.errors
        assert [(h["streamtype"], h["port"], h["requestid"]) for h in session.accepted] == [
            ("error", str(port), "0"),
            ("data", str(port), "0"),
            ("error", str(port), "1"),
            ("data", str(port), "1"),
        ]


def test_forward_falls_back_to_the_spdy_upgrade_when_the_server_has_no_websocket_tunnel(
    kube_docker: KubeEnv,
) -> None:
    kube = kube_docker
    kube.fake.faults.portforward_websockets_disabled = True
    _pod(kube)
    local = _free_port()
    proc = _forward(kube, "pod/web", "8080", "--local", str(local))
    try:
        assert _fetch(local) == FIXTURE_INDEX
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    # kubectl tried the tunnel, was refused, and spoke SPDY on the upgraded connection instead.
    forward = "/api/v1/namespaces/default/pods/web/portforward"
    assert [r.method for r in kube.fake.requests if r.path == forward] == ["GET", "POST"]
    (session,) = kube.fake.portforward_sessions
    assert [h["streamtype"] for h in session.accepted] == ["error", "data"]


def test_forward_fails_in_one_sentence_for_a_pod_not_running_or_not_allowed(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("idle", status={"phase": "Pending"})
    out = kube.debugbox("forward", "pod/idle", "8080", "--local", str(_free_port()), timeout=60)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("debugbox: kubectl port-forward to pod default/idle failed: "), out.stderr
    assert "pod is not running" in last and "Traceback" not in out.stderr
    # RBAC: reading pods is not enough; `create` on pods/portforward is what the fake (and a cluster) asks.
    _pod(kube)
    kube.login("alice")
    kube.fake.rbac.allow("alice", ["get", "list"], ["pods"])
    out = kube.debugbox("forward", "pod/web", "8080", "--local", str(_free_port()), timeout=60)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("debugbox: kubectl port-forward to pod default/web failed: "), out.stderr
    assert "forbidden" in last.lower() and "Traceback" not in out.stderr, last
    assert not kube.fake.portforward_sessions


def test_cp_from_a_non_root_pod_and_a_runtime_without_target_support(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    nonroot = {"name": "app", "image": "example.com/distroless-nonroot:1"}
    kube.fake.store.add_pod("lone", containers=[nonroot], docker=True)
    dest = kube.tmp / "index.html"
    # A target running as 65532: the debug container (root with SYS_PTRACE, profile general) reads its files.
    out = kube.debugbox("cp", "pod/lone:/www/index.html", str(dest), "--image", "busybox:1.36", "--yes")
    assert out.returncode == 0, out.stderr
    assert dest.read_bytes() == FIXTURE_INDEX.replace(b"distroless-app", b"distroless-nonroot")

    # A runtime that ignores --target: the debug container sees only itself, and says so in one sentence.
    kube.fake.lifecycle.supports_target = False
    _pod(kube, "web")
    out = kube.debugbox(
        "cp", "pod/web:/www/index.html", str(kube.tmp / "x"), "--image", "busybox:1.36", "--yes"
    )
    assert out.returncode == 1
    # The debug container's bootstrap checks --target first (#13 §4) and ends; the watch says why in one line.
    (line,) = [ln for ln in out.stderr.strip().splitlines() if ln.startswith("debugbox:")][-1:]
    assert "cannot see the processes of container app" in line and "ignored --target" in line, out.stderr
    assert not (kube.tmp / "x").exists()
