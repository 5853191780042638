"""TTYs through the fake's streaming (docker-backed kubelet), driven by real kubectl on a pseudo-terminal of
the test's own (`tests/integration/terminal.py`): `exec -it` gives the process a terminal of the client's size
(a shell prompts, stdout and stderr are one stream, a resize reaches `stty size`), `attach -it` carries the
terminal of a container created with `tty: true`, and `attach -i` without a terminal to such a container is
refused as the kubelet's runtime refuses it ("tty and stderr cannot both be true")."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.integration.kubernetes.conftest import KUBECTL, KubeEnv
from tests.integration.terminal import Terminal

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]

SHELL_APP = "example.com/shell-app:1"
#: Generous bounds for one step of a session (a container start, a prompt); not a speed claim.
STEP = 60.0
PROMPT = r"# "


def _kubectl(kube: KubeEnv, *args: str, rows: int = 24, cols: int = 80) -> Terminal:
    return Terminal([str(KUBECTL), *args], {**kube.env, "TERM": "xterm"}, rows=rows, cols=cols)


def _size_reported(term: Terminal, rows: int, cols: int) -> None:
    """`stty size` inside reports rows and cols. A resize travels kubectl → fake → docker CLI → engine while
    the next keys travel their own way, so a prompt that was faster than the resize is asked again."""
    deadline = time.monotonic() + STEP
    while True:
        term.type("stty size\n")
        if f"{rows} {cols}" in term.expect(PROMPT, STEP).split("stty size", 1)[-1]:
            return
        assert time.monotonic() < deadline, term.text


def test_exec_it_gives_the_process_a_terminal_of_the_clients_size(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    kube.fake.store.add_pod("web", containers=[{"name": "app", "image": SHELL_APP}], docker=True)

    term = _kubectl(kube, "exec", "-it", "web", "--", "sh", rows=31, cols=101)
    try:
        term.expect(PROMPT, STEP)  # an interactive shell: it found a terminal on its stdin
        term.type("tty; echo out-$((6*7)); echo err-$((6*7)) >&2\n")
        seen = term.expect(r"err-42\n", STEP)
        assert "/dev/pts/" in seen and "out-42" in seen  # its own terminal; stderr came on the same stream
        term.expect(PROMPT, STEP)
        _size_reported(term, 31, 101)  # the size kubectl sent first
        term.resize(45, 132)  # the user's window changed: kubectl sends the new size on channel 4
        _size_reported(term, 45, 132)
        term.type("exit 3\n")
        assert term.wait(STEP) == 3  # the exit code still comes back on the error channel
    finally:
        term.close()
    (request,) = kube.fake.requests_to("GET", "/pods/web/exec")
    # kubectl asks for a TTY and no stderr stream (a terminal has one output)
    assert request.q("tty") == "true" and request.q("stderr") in (None, "false")

    # A command that ends at once: everything it printed arrives before the session's end, and its exit code.
    term = _kubectl(kube, "exec", "-it", "web", "--", "sh", "-c", "seq 1 2000; echo last-$((6*7)); exit 5")
    try:
        assert term.wait(STEP) == 5
        words = term.text.split()
        end = words.index("last-42")
        assert words[end - 2000 : end] == [str(n) for n in range(1, 2001)]
        assert "command terminated with exit code 5" in term.text  # kubectl's own line, after the output
    finally:
        term.close()


def test_attach_it_carries_the_terminal_of_a_container_created_with_one(kube_docker: KubeEnv) -> None:
    kube = kube_docker
    app = {"name": "app", "image": SHELL_APP, "command": ["sh"], "stdin": True, "tty": True}
    kube.fake.store.add_pod("web", containers=[app], docker=True)

    # Without a terminal kubectl asks for stdout and stderr: the runtime refuses stderr on a TTY container.
    piped = subprocess.run(
        [str(KUBECTL), "attach", "-i", "web"],
        env=kube.env,
        input="echo never\n",
        capture_output=True,
        text=True,
        timeout=STEP,
    )
    assert piped.returncode != 0 and "never" not in piped.stdout
    assert "tty and stderr cannot both be true" in piped.stderr, piped.stderr

    first = _kubectl(kube, "attach", "-it", "web", rows=27, cols=90)
    try:
        first.expect("try pressing enter", STEP)  # kubectl's own line: the shell prompted before we came
        first.type("\n")
        first.expect(PROMPT, STEP)
        first.type("echo attached-$((6*7))\n")
        first.expect("attached-42", STEP)
        first.expect(PROMPT, STEP)
        _size_reported(first, 27, 90)  # attaching sized the container's terminal to ours
    finally:
        first.close()  # the terminal goes away without a word: the container's shell stays

    assert kube.fake.docker is not None and kube.fake.docker.running("default", "web", "app")
    again = _kubectl(kube, "attach", "-it", "web", rows=33, cols=120)
    try:
        again.expect("try pressing enter", STEP)
        again.type("echo again-$((6*7))\n")
        again.expect("again-42", STEP)  # the same shell, reached by a second attach
        again.expect(PROMPT, STEP)
        _size_reported(again, 33, 120)
        again.type("exit\n")  # the container's process ends, and with it the attach
        assert again.wait(STEP) == 0
    finally:
        again.close()
