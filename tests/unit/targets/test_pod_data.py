"""`core/targets/pod_data.py`: the kubectl argv of data commands on pods, built without a cluster."""

from __future__ import annotations

import pytest
from debugbox.core.errors import InvalidTarget
from debugbox.core.targets import pod_data
from debugbox.core.targets.pod_facts import ClusterFacts

CLUSTER = ClusterFacts(kubectl="/usr/bin/kubectl", context="kind-dev")
REF = pod_data.DebugContainerRef("web-1", "shop", "debugbox-app", "app", CLUSTER)


def test_data_commands_exec_in_the_debug_container_without_a_tty() -> None:
    argv = pod_data.read_argv(REF, "/var/log/app.log")
    assert argv[:9] == (
        "/usr/bin/kubectl", "exec", "web-1", "-c", "debugbox-app", "-n", "shop", "--context", "kind-dev",
    )  # fmt: skip
    assert "-t" not in argv and "-it" not in argv and "-i" not in argv  # nothing to send: no stdin either
    command = argv[argv.index("--") + 1 :]
    assert command[:4] == ("env", "DEBUGBOX_QUIET=1", "sh", "-c")  # the bootstrap finds the target's PID
    assert command[-5:] == ("-c", pod_data.READ_SCRIPT, "debugbox-data", "/var/log/app.log", "file")
    # A copy out also sends folders (the script's `folders`), for a normalized path; never the target's root.
    copy = pod_data.copy_out_argv(REF, "/srv/a b/./ü/")
    assert copy[:9] == argv[:9] and copy[-3:] == ("debugbox-data", "/srv/a b/ü", "folders")
    for root in ("/", "//", "/srv/.."):
        with pytest.raises(InvalidTarget, match="root"):
            pod_data.copy_out_argv(REF, root)

    argv = pod_data.write_argv(REF, "/tmp", size=12, mode=0o100644, name="a b é.bin", force=False)
    assert argv[2] == "-i" and argv[-5:] == ("/tmp", "0", "12", "644", "a b é.bin")
    with pytest.raises(InvalidTarget):
        pod_data.write_argv(REF, "/tmp", size=1, mode=0o644, name="../x", force=False)
    with pytest.raises(InvalidTarget):
        pod_data.read_argv(REF, "relative/path")


def test_the_target_check_is_the_bootstraps_and_nothing_else() -> None:
    from debugbox.core.targets.session import bootstrap_command

    argv = pod_data.target_check_argv(REF)
    assert argv[: argv.index("--")] == (
        "/usr/bin/kubectl", "exec", "web-1", "-c", "debugbox-app", "-n", "shop", "--context", "kind-dev",
    )  # fmt: skip
    command = argv[argv.index("--") + 1 :]
    # Asked explicitly, not left to the container's environment; no banner; `true` once the check passed.
    assert command == ("env", "DEBUGBOX_QUIET=1", "DEBUGBOX_EXPECT_TARGET=1", *bootstrap_command(["true"]))


def test_a_new_debug_container_is_created_without_attaching() -> None:
    plan = ("kubectl", "debug", "web-1", "-it", "-n", "shop", "--target=app", "--", "sh", "-c", "-it")
    assert pod_data.detached(plan) == (
        "kubectl", "debug", "web-1", "-it", "--attach=false", "-n", "shop", "--target=app", "--", "sh", "-c", "-it",
    )  # fmt: skip


def test_capture_and_port_forward_argv() -> None:
    argv = pod_data.capture_argv(REF, "tcp port 8080", count=5)
    assert argv[2] == "-i"  # stdin stays open: closing it stops the capture
    tail = argv[argv.index(pod_data.CAPTURE_SCRIPT) + 2 :]
    assert tail == ("-i", "any", "-U", "-c", "5", "-w", "-", "--", "tcp", "port", "8080")
    with pytest.raises(InvalidTarget):
        pod_data.capture_argv(REF, "-w /etc/passwd")

    assert pod_data.port_forward_argv(CLUSTER, "shop", "web-1", 8080, 18080) == (
        "/usr/bin/kubectl", "port-forward", "pod/web-1", "18080:8080", "-n", "shop", "--context", "kind-dev",
        "--address", "127.0.0.1",
    )  # fmt: skip
    assert pod_data.port_forward_argv(CLUSTER, "shop", "web-1", 80, 0, "0.0.0.0")[3] == ":80"
    with pytest.raises(InvalidTarget):
        pod_data.port_forward_argv(CLUSTER, "shop", "web-1", 80, 0, "--kubeconfig=/x")


def test_failures_read_as_one_sentence() -> None:
    assert pod_data.explain(91, "/x", "") == "/x does not exist in the target"
    assert pod_data.explain(92, "/x", "") == "/x is a folder in the target"  # the file view reads files only
    assert pod_data.explain(89, "/x", "") == (
        "/x is a folder, and the debug container's image has no tar to send it with: copy it with a toolbox "
        "image that has tar (--image, e.g. busybox), or copy its files one by one"
    )
    assert "--force" in pod_data.explain(96, "/x", "")
    kubectl_said = "/a\ncommand terminated with exit code 94\n"  # kubectl's own last line is not the detail
    assert pod_data.explain(94, "/a/b", kubectl_said).startswith("/a is a symbolic link")
    assert pod_data.explain(1, "/x", "cat: can't open '/x': Permission denied\n") == (
        "kubectl exec failed: cat: can't open '/x': Permission denied"
    )


def test_file_view_records_are_parsed_as_data() -> None:
    records = (
        b"file 12 1700000000\0a b\n\xc3\xa9.txt\0\0"
        b"symlink 7 1700000001\0cur\0/etc/../x\0"
        b"directory 4096 1700000002\0www\0\0"
        b"file 1 1\0..\0\0"  # never a name that leaves the folder
        b"weird 1 1\0x\0\0"  # an unknown kind is dropped
        b"truncated 0 0\0\0\0"
    )
    entries, truncated = pod_data.parse_entries(records)
    assert [(e.name, e.kind, e.size, e.mtime, e.link_target) for e in entries] == [
        ("a b\né.txt", "file", 12, 1700000000.0, ""),
        ("cur", "symlink", 0, 1700000001.0, "/etc/../x"),
        ("www", "directory", 0, 1700000002.0, ""),
    ]
    assert truncated is True
    assert pod_data.parse_entries(b"") == ([], False)
    argv = pod_data.view_argv(REF, "/www", "list", 5000)
    assert argv[-3:] == ("/www", "list", "5000") and "-i" not in argv
