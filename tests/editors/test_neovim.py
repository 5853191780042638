"""debugbox in real Neovim (Debian's 0.7.2, headless, its built-in LSP client driven from Lua).

`nvim/client.lua` starts `python -m debugbox lsp`, waits for diagnostics on a distroless Dockerfile, lists
the code actions for the shell-form CMD and applies the exec-form rewrite, picks a manifest quick fix in
Neovim's own code-action menu (which completes it with `codeAction/resolve`); with a live container it also runs
`debugbox.debugCommand` (the argv comes back as the result) and `debugbox.openDebugTerminal` (this client
did not opt in to `debugbox/openTerminal`, so the command line comes as `window/showMessage`).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, require
from tests.editors.docker_images import (
    TARGET_IMAGE,
    TOOLBOX_IMAGE,
    build_images,
    docker_ok,
    remove,
    run_target,
)

pytestmark = pytest.mark.neovim

CLIENT = Path(__file__).resolve().parent / "nvim" / "client.lua"
LOGS = Path(os.environ.get("DEBUGBOX_LOG_DIR", ROOT / "test-artifacts" / "logs"))


def _nvim(tmp_path: Path, target: str = "") -> tuple[subprocess.CompletedProcess[str], float]:
    nvim = shutil.which("nvim")
    require(nvim is not None, "neovim is not installed (scripts/setup-system.sh)")
    assert nvim is not None
    work = tmp_path / "work"
    home = tmp_path / "home"  # nvim writes shada/log under $HOME even with -u NONE
    work.mkdir()
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "LSP_CMD": json.dumps([sys.executable, "-m", "debugbox", "lsp"]),
        "WORKDIR": str(work),
        "TARGET": target,
    }
    if target:
        env["TOOLBOX"] = TOOLBOX_IMAGE
    start = time.monotonic()
    proc = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {CLIENT}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - start
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"neovim{'-target' if target else ''}.log").write_text(
        f"rc={proc.returncode} {seconds:.2f}s\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc, seconds


def _lines(stdout: str, prefix: str) -> list[str]:
    return [line[len(prefix) + 1 :] for line in stdout.splitlines() if line.startswith(prefix + " ")]


def test_neovim_diagnostics_and_code_action(tmp_path: Path) -> None:
    proc, _ = _nvim(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "OK"
    diags = _lines(proc.stdout, "DIAGNOSTIC")
    assert "debugbox DBX101 L3" in diags  # the distroless final stage has no shell
    assert "debugbox DBX102 L5" in diags  # shell-form CMD there cannot run
    actions = _lines(proc.stdout, "ACTION")
    assert "Rewrite in exec (JSON) form" in actions
    assert _lines(proc.stdout, "LINE") == ['CMD ["/app", "--port", "8080"]']
    # A manifest quick fix picked in Neovim's own menu: listed unchecked, resolved and applied by Neovim.
    assert _lines(proc.stdout, "PICKED") == ["edit on resolve"]
    assert _lines(proc.stdout, "MANIFEST") == [
        "  restartPolicy: Always|  shareProcessNamespace: true|  containers:"
    ]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(docker_ok(), "no Docker engine answers (scripts/start-docker.sh)")
    build_images(tmp_path_factory.mktemp("images"))
    name = run_target()
    try:
        yield name
    finally:
        remove(name)


def test_neovim_debug_command_returns_argv(tmp_path: Path, target: str) -> None:
    proc, _ = _nvim(tmp_path, target)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (argv_json,) = _lines(proc.stdout, "ARGV")
    argv = json.loads(argv_json)
    # The target has no shell, so debugbox chose a sidecar joining its PID and network namespaces.
    assert _lines(proc.stdout, "STRATEGY") == ["sidecar"]
    assert argv[:2] == ["docker", "run"]
    full_id = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", target], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert f"--pid=container:{full_id}" in argv
    assert f"--net=container:{full_id}" in argv
    # The configured toolbox image (debugbox.toolboxImage), running the session bootstrap with its own sh.
    assert argv[argv.index("--entrypoint=sh") + 1] == TOOLBOX_IMAGE and argv[-1] == "debugbox"
    assert TARGET_IMAGE not in argv  # the toolbox runs, not the target's image
    messages = _lines(proc.stdout, "MESSAGE")
    assert any("docker run" in m for m in messages), messages

    # The argv Neovim received, run as it is on the real engine (in a terminal, as an editor would): the shell
    # it opens sees the target's processes, PID 1 being the target's /httpd.
    seen, rc = _run_in_terminal(argv, until=PID1_HTTPD, then="exit\n")
    assert PID1_HTTPD.search(seen), seen[-3000:]
    assert rc == 0, seen[-3000:]  # the session ended with the `exit` typed into it


#: A `ps` line for PID 1 running /httpd: the target's own process, seen from the debug session.
PID1_HTTPD = re.compile(r"^\s*1\s+\S+\s+/httpd\b", re.MULTILINE)


def _run_in_terminal(
    argv: list[str], until: re.Pattern[str], then: str, seconds: float = 90
) -> tuple[str, int | None]:
    """Run `argv` on a pseudo-terminal; once its output matches `until`, type `then`. Returns the output and
    the exit code (None if it was still running after `seconds`, then killed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    typed = False
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the session ended and closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
            text = out.decode(errors="replace").replace("\r\n", "\n")
            if not typed and until.search(text):
                os.write(master, then.encode())
                typed = True
        rc: int | None = proc.wait(timeout=30) if typed else proc.poll()
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return out.decode(errors="replace").replace("\r\n", "\n"), rc


def test_documented_neovim_config_works(tmp_path: Path) -> None:
    """The `init.lua` snippet in docs/editors.md, as written, attaches debugbox and gets its diagnostics."""
    nvim = shutil.which("nvim")
    require(nvim is not None, "neovim is not installed (scripts/setup-system.sh)")
    assert nvim is not None
    doc = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    marker = doc.index("<!-- tested: neovim -->")
    start = doc.index("```lua\n", marker) + len("```lua\n")
    (tmp_path / "init.lua").write_text(doc[start : doc.index("```", start)], encoding="utf-8")
    (tmp_path / "home").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text(
        "FROM gcr.io/distroless/static-debian12\nCOPY app /app\n", encoding="utf-8"
    )
    check = tmp_path / "check.lua"
    check.write_text(
        """
local ok = vim.wait(20000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.source == "debugbox" then return true end
  end
  return false
end, 100)
for _, d in ipairs(vim.diagnostic.get(0)) do
  io.stdout:write(string.format("DIAGNOSTIC %s %s L%d\\n", d.source, tostring(d.code), d.lnum + 1))
end
io.stdout:write("CLIENTS " .. #vim.lsp.buf_get_clients(0) .. "\\n")
io.stdout:flush()
for _, c in pairs(vim.lsp.get_active_clients()) do c.stop(true) end
vim.cmd(ok and "qall!" or "cquit 1")
""",
        encoding="utf-8",
    )
    # The snippet runs `debugbox lsp` from PATH, as a user's pip install provides it.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = subprocess.run(
        [
            nvim,
            "--headless",
            "-u",
            str(tmp_path / "init.lua"),
            "-i",
            "NONE",
            "Dockerfile",
            "-c",
            f"luafile {check}",
        ],
        cwd=work,
        env={**os.environ, "HOME": str(tmp_path / "home"), "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CLIENTS 1" in proc.stdout.splitlines()
    assert "DIAGNOSTIC debugbox DBX101 L1" in proc.stdout.splitlines()
