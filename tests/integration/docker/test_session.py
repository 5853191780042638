"""The session bootstrap on a real Docker engine, with the busybox toolbox: what a sidecar session gives (the
target's files at /target, its working directory and environment, a prompt and a banner naming it), for a root
target and a USER 65532 one, through `debugbox shell` and through the interactive argv the editor runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from debugbox.core.settings import Settings
from debugbox.edge import service

from tests.conftest import require
from tests.integration.docker.engine import DISTROLESS, NONROOT, SHELL_APP, TOOLBOX, Containers, docker

pytestmark = pytest.mark.docker

SETTINGS = Settings(toolbox_image=TOOLBOX)
#: The target runs with a working directory and variables of its own, like a real app.
TARGET_OPTIONS = ("--workdir", "/www", "--env", "APP_GREETING=hello there", "--env", "PATH=/app/bin:/bin")
PROBE = "id -u; echo ---; pwd; echo ---; ls /target; echo ---; env"


def debugbox_shell(*args: str) -> subprocess.CompletedProcess[str]:
    return debugbox_cli("shell", *args)


def debugbox_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "debugbox", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(("image", "uid"), [(DISTROLESS, "0"), (NONROOT, "65532")])
def test_a_session_starts_in_the_targets_workdir_with_its_files_and_environment(
    containers: Containers, image: str, uid: str
) -> None:
    target = containers.run(image, options=TARGET_OPTIONS)

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", PROBE)

    assert proc.returncode == 0, proc.stderr
    me, cwd, files, env_text = (part.split("\n") for part in proc.stdout.split("---\n"))
    env = dict(line.split("=", 1) for line in env_text if "=" in line)
    assert me[0] == uid  # a non-root target's session runs as its UID
    assert cwd[0] == "/target/www"
    assert {"httpd", "www"} <= set(files)
    assert env["APP_GREETING"] == "hello there"
    assert env["TARGET_PATH"] == "/app/bin:/bin"
    assert env["PATH"] != env["TARGET_PATH"]  # the toolbox's tools come first
    assert env["TARGET_PID"] == "1" and env["TARGET_ROOT"] == "/target"
    banner = proc.stderr
    assert f"debugbox: inside {target} (docker sidecar, toolbox {TOOLBOX})" in banner
    assert "PID 1: /httpd -f -p 8080 -h /www" in banner
    assert f"target uid {uid} gid 0; this session uid {uid} gid 0" in banner
    assert "you are in /target/www" in banner
    assert "wget" in banner.split("tools", 1)[1]


@pytest.mark.parametrize("image", [DISTROLESS, NONROOT])
def test_the_interactive_session_shows_the_banner_and_a_prompt_naming_the_target(
    containers: Containers, image: str
) -> None:
    """The argv the editor's terminal runs (no command: the bootstrap's interactive shell), fed from a pipe."""
    target = containers.run(image, options=TARGET_OPTIONS)
    options = service.plan_options(SETTINGS, tty=False, stdin=True)
    plan = service.plan(SETTINGS, target, options)

    proc = subprocess.run(
        list(plan.argv),
        input="pwd; cat index.html; echo $APP_GREETING\nexit\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    sign = "#" if image == DISTROLESS else "$"
    prompt = f"[debug {target}] /target/www {sign} "  # busybox's interactive sh prompts on stdout
    page = f"hello from {image.split(':')[0]}"
    assert f"{prompt}/target/www\n{page}\nhello there\n{prompt}" in proc.stdout
    assert f"debugbox: inside {target}" in proc.stderr
    assert plan.title == f"Debug: {target} (sidecar, target files at /target)"


def test_raw_gives_todays_plain_toolbox_shell(containers: Containers) -> None:
    target = containers.run(DISTROLESS, options=TARGET_OPTIONS)

    probe = "pwd; ls /proc/1/root; ls /target"
    raw = debugbox_shell(target, "--image", TOOLBOX, "--raw", "--", "sh", "-c", probe)

    assert raw.returncode != 0 and "/target: No such file or directory" in raw.stderr
    assert raw.stdout.split("\n")[0] == "/"
    assert "httpd" in raw.stdout.split()
    assert "debugbox: inside" not in raw.stderr


def test_a_read_only_toolbox_root_gets_a_clear_note_and_the_proc_path(containers: Containers) -> None:
    """A read-only root (as policies impose) has no room for /target: the banner says where the files are."""
    target = containers.run(DISTROLESS)
    options = service.plan_options(SETTINGS, command=("sh", "-c", "echo $TARGET_ROOT; ls $TARGET_ROOT"))
    options = type(options)(**{**options.__dict__, "tty": False, "stdin": False})
    argv = list(service.plan(SETTINGS, target, options).argv)
    argv.insert(argv.index("--rm"), "--read-only")

    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "/proc/1/root" and "httpd" in proc.stdout.split()
    assert "the toolbox's root filesystem is read-only, so there is no /target" in proc.stderr


def test_a_session_that_cannot_read_the_target_says_why_and_what_to_do(containers: Containers) -> None:
    """A root session without SYS_PTRACE on a 65532 target: one note naming the cause and --ptrace."""
    target = containers.run(NONROOT)
    options = service.plan_options(SETTINGS, command=("true",), tty=False, stdin=False, ptrace=True)
    argv = [a for a in service.plan(SETTINGS, target, options).argv if a != "--cap-add=SYS_PTRACE"]

    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    assert (
        "cannot read the target's files: it runs as uid 65532 and this session as uid 0 without SYS_PTRACE; "
        "reopen with --ptrace" in proc.stderr
    )


def test_a_session_with_the_targets_uid_but_another_gid_names_the_gid_not_ptrace(
    containers: Containers,
) -> None:
    """The kernel's ptrace access check compares the GIDs too: a session run as 65532:65532 (a toolbox's own
    /etc/passwd, or a debug container without runAsGroup) next to a target run as 65532:0 is told exactly that."""
    target = containers.run(NONROOT)
    options = service.plan_options(SETTINGS, command=("true",), tty=False, stdin=False)
    argv = list(service.plan(SETTINGS, target, options).argv)
    assert "--user=65532:0" in argv  # the engine's process list gave the target's real GID
    argv[argv.index("--user=65532:0")] = "--user=65532:65532"

    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    assert (
        "cannot read the target's files or environment: the target runs as 65532:0, this session as "
        "65532:65532 — without SYS_PTRACE both uid and gid must match" in proc.stderr
    )
    assert "runAsGroup: 0" in proc.stderr and "SYS_PTRACE; reopen with --ptrace" not in proc.stderr


def test_the_targets_environment_cannot_run_code_in_the_session(containers: Containers) -> None:
    """Variables that make a shell or a runtime execute something stay under TARGET_ (the target may be hostile)."""
    hostile = ("PROMPT_COMMAND=touch /tmp/owned", "BASH_ENV=/target/evil", "ENV=/target/evil",
               "PS1=$(touch /tmp/owned)", "LD_PRELOAD=/target/evil.so", "PYTHONSTARTUP=/target/evil.py",
               "EXINIT=:!touch /tmp/owned", "VIMINIT=:!touch /tmp/owned", "OPENSSL_CONF=/target/evil.cnf",
               "JAVA_TOOL_OPTIONS=-javaagent:/target/evil.jar", "XDG_CONFIG_HOME=/target/evil")  # fmt: skip
    target = containers.run(DISTROLESS, options=[a for v in hostile for a in ("--env", v)])

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", "env")

    assert proc.returncode == 0, proc.stderr
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    # EXINIT: the toolbox's own vi (busybox's, listed in the banner) runs its `:!cmd` as it starts.
    for name in ("PROMPT_COMMAND", "BASH_ENV", "LD_PRELOAD", "PYTHONSTARTUP", "EXINIT", "VIMINIT",
                 "OPENSSL_CONF", "JAVA_TOOL_OPTIONS", "XDG_CONFIG_HOME"):  # fmt: skip
        assert name not in env and f"TARGET_{name}" in env
    assert "ENV" not in env  # the shell's startup file is the toolbox's own, never the target's
    assert env["PS1"].startswith(f"[debug {target}]")


def test_a_variable_whose_value_has_newlines_arrives_whole_and_adds_no_other(containers: Containers) -> None:
    """/proc/PID/environ ends each variable with NUL; a value may hold newlines (a PEM key in the environment):
    each of its lines is not a variable of its own."""
    pem = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9==\nINJECTED=yes\n-----END KEY-----\n\n"
    target = containers.run(DISTROLESS, options=("--env", f"TLS_KEY={pem}", "--env", "AFTER=ok"))

    probe = 'printf "[%s]" "$TLS_KEY" "${INJECTED-none}" "${MIIBOgIBAAJBAKj34GkxFhD9-none}" "$AFTER"'

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", probe)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"[{pem}][none][none][ok]"


def test_the_targets_command_line_and_working_directory_reach_the_terminal_without_control_sequences(
    containers: Containers,
) -> None:
    """The banner prints what the target chose; an OSC 52 (clipboard) or a screen clear in its arguments or its
    working directory's name is shown as `?`, and the prompt (which shows $PWD) does not start in that folder.
    So are a C1 CSI (U+009B: a screen clear to a terminal that decodes UTF-8 first, as VS Code's does) and bidi
    overrides and isolates (a name shown reversed), while other non-ASCII text stays as it is."""
    clipboard, clear = "\x1b]52;c;cm0gLXJmIH4K\x07", "\x1b[2J"
    c1_clear, reversed_, isolate = "\u009b2J", "\u202egnp.exe", "\u2066x\u2069"
    args = ("-f", "-p", "8080", "-h", ".", "-r", f"realm{clipboard}{c1_clear} café—{reversed_}{isolate}")
    target = containers.run(DISTROLESS, *args, options=("--workdir", f"/www/x{clear}"))  # `-h .`: stays there

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", "echo $PWD")

    assert proc.returncode == 0, proc.stderr
    assert not {"\x1b", "\x07", "\u009b", "\u202e", "\u2066", "\u2069"} & set(proc.stderr)
    assert "-h . -r realm?]52;c;cm0gLXJmIH4K??2J café—?gnp.exe?x?" in proc.stderr
    assert "the target's working directory /www/x?[2J has control characters in its name" in proc.stderr
    assert proc.stdout == "/target\n"


def test_a_target_whose_working_directory_was_removed_gets_a_note_saying_so(containers: Containers) -> None:
    script = "mkdir -p /tmp/gone && cd /tmp/gone && rmdir /tmp/gone && exec sleep 600"
    target = containers.run(SHELL_APP, "-c", script, options=("--entrypoint", "sh"))
    for _ in range(100):  # until the main process is `sleep`, in the removed folder
        if "sleep 600" in docker("top", target):
            break
        time.sleep(0.05)

    proc = debugbox_shell(target, "--image", TOOLBOX, "--strategy", "sidecar", "--", "sh", "-c", "echo $PWD")

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "/target\n"
    assert "note      the target's working directory /tmp/gone (deleted) no longer exists" in proc.stderr


def test_a_target_in_the_hosts_pid_namespace_is_its_own_process_not_the_hosts_init(
    containers: Containers,
) -> None:
    """`--pid=host` (a monitoring agent): PID 1 of the joined namespace is the host's init. The session used to
    take that for the target (its command line in the banner, its files closed, a note blaming ptrace)."""
    target = containers.run(DISTROLESS, options=("--pid=host", "--workdir", "/www", "--env", "WHO=agent"))
    host_pid = docker("inspect", "-f", "{{.State.Pid}}", target).strip()

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", 'echo "$TARGET_PID $PWD $WHO"')

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{host_pid} /target/www agent\n"
    assert f"target    PID {host_pid}: /httpd -f -p 8080 -h /www" in proc.stderr
    assert "note" not in proc.stderr


def test_a_target_sharing_another_containers_pid_namespace_is_found_by_its_cgroup(
    containers: Containers,
) -> None:
    """`--pid=container:OTHER` (compose `pid: service:x`): PID 1 is the other container's process, which the
    session used to take for the target, with its uid and a note about the wrong gid."""
    other = containers.run(DISTROLESS)
    options = ("--pid", f"container:{other}", "--workdir", "/www", "--env", "WHO=joiner")
    target = containers.run(NONROOT, "-f", "-p", "9090", "-h", "/www", options=options)

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", 'echo "$TARGET_PID $PWD $WHO"; id -u')

    assert proc.returncode == 0, proc.stderr
    pid, cwd, who, uid = proc.stdout.split()
    assert pid != "1" and (cwd, who, uid) == ("/target/www", "joiner", "65532")
    assert f"target    PID {pid}: /httpd -f -p 8080 -h /www -f -p 9090 -h /www" in proc.stderr
    assert "target uid 65532 gid 0; this session uid 65532 gid 0" in proc.stderr
    assert "note" not in proc.stderr


def test_the_banner_names_the_variables_a_shell_cannot_hold(containers: Containers) -> None:
    """`server.port` (Spring) is a valid variable name in an environment, not in a shell: the banner used to say
    every variable of the target was set while those were dropped."""
    names = ("server.port=8080", "my-var=1", "OK=yes")
    target = containers.run(DISTROLESS, options=[a for v in names for a in ("--env", v)])

    proc = debugbox_shell(target, "--image", TOOLBOX, "--", "sh", "-c", "echo $OK")

    assert proc.returncode == 0 and proc.stdout == "yes\n", proc.stderr
    # The names come in the order of /proc/1/environ, which Docker's daemon does not keep from one container to
    # the next (seen: `my-var, server.port` for `--env server.port=… --env my-var=…`).
    (line,) = [ln for ln in proc.stderr.splitlines() if ": names a shell variable cannot have" in ln]
    assert line.endswith(": names a shell variable cannot have (they are in /proc/1/environ)"), line
    listed = line.strip().removeprefix("except ").split(":")[0]
    assert sorted(listed.split(", ")) == ["my-var", "server.port"], line


@pytest.fixture
def bash_toolbox() -> Iterator[str]:
    """A toolbox whose `sh` is bash (as on Red Hat-like images): `debugbox toolbox build --tool bash`, then
    /bin/sh linked to it. Both images are removed afterwards."""
    require(shutil.which("bash") is not None, "bash is needed on this machine")
    tag = f"debugbox-test/bash-sh:{uuid.uuid4().hex[:10]}"
    built, maker = f"{tag}-build", f"dbx-{uuid.uuid4().hex[:10]}"
    try:
        made = debugbox_cli("toolbox", "build", "--tool", "bash", "--tag", built)
        assert made.returncode == 0, made.stderr
        link = 'ln -sf "$(command -v bash)" /bin/sh'
        docker("run", "--name", maker, "--entrypoint", "/bin/busybox", built, "sh", "-c", link)
        docker("commit", maker, tag)
        yield tag
    finally:
        docker("rm", "-f", maker, check=False)
        docker("rmi", tag, built, check=False)


def test_a_target_variable_bash_keeps_read_only_does_not_end_a_session_whose_sh_is_bash(
    containers: Containers, bash_toolbox: str
) -> None:
    """`ENV UID=1000` is common in Dockerfiles; bash (in posix mode, as `sh`) makes UID read-only, and
    exporting it ended the bootstrap: "UID: readonly variable", exit 1, no session."""
    target = containers.run(DISTROLESS, options=("--env", "UID=1000", "--env", "PPID=7", "--env", "GID=1000"))

    proc = debugbox_shell(
        target, "--image", bash_toolbox, "--", "sh", "-c", 'echo "$TARGET_UID $GID ${BASH_VERSION:+bash}"'
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1000 1000 bash\n"  # the bootstrap ran in bash
    assert "readonly" not in proc.stderr and f"debugbox: inside {target}" in proc.stderr
