"""The pure decisions behind `debugbox cp` and `debugbox forward`: which word names the target, where an archive
entry may land (never outside the destination), and the argv of the forwarding helper."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from debugbox.core.errors import InvalidTarget, engine_cli_reason
from debugbox.core.targets.capture import CAPTURE_LABEL, capture_argv, summarize_pcap
from debugbox.core.targets.port_forward import (
    FORWARD_LABEL,
    connect_argv,
    helper_argv,
    listening_address,
    validate_port,
)
from debugbox.core.targets.transfer import (
    TargetPath,
    archive_parent_and_name,
    beneath_a_mount,
    human_size,
    land,
    split_target_path,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("web:/etc/hosts", TargetPath("web", "/etc/hosts")),
        ("docker://web:/a b/ü", TargetPath("docker://web", "/a b/ü")),
        ("3f2a9c:/", TargetPath("3f2a9c", "/")),
        ("web:/x/../y//z", TargetPath("web", "/y/z")),
        ("./odd:name", None),
        ("/abs/odd:name", None),
        ("plain.txt", None),
    ],
)
def test_split_target_path(word: str, expected: TargetPath | None) -> None:
    assert split_target_path(word) == expected


def test_a_relative_or_controlled_path_in_the_target_is_refused() -> None:
    with pytest.raises(InvalidTarget, match="must be absolute"):
        split_target_path("web:etc/hosts")
    with pytest.raises(InvalidTarget, match="control"):
        split_target_path("web:/etc/\x1b]52;c;x\x07")
    # The editor's download of a file its listing showed: the name is the target's, whatever it holds.
    assert split_target_path("web:/etc/\x1b]52;c;x\x07", listed=True) == TargetPath(
        "web", "/etc/\x1b]52;c;x\x07"
    )
    with pytest.raises(InvalidTarget, match="control"):
        split_target_path("web:/etc/a\x00b", listed=True)


@pytest.mark.parametrize(
    ("entry", "rename", "expected"),
    [
        ("etc", None, "etc"),
        ("etc/hosts", None, "etc/hosts"),
        ("etc/hosts", "conf", "conf/hosts"),
        ("./etc/x", None, "etc/x"),
    ],
)
def test_entries_land_under_the_destination(entry: str, rename: str | None, expected: str) -> None:
    assert land(entry, "etc", rename).relative == PurePosixPath(expected)


@pytest.mark.parametrize("entry", ["/etc/passwd", "etc/../../x", "../x", "other/file", "etc\\..\\x", ""])
def test_entries_that_would_escape_are_skipped_with_a_reason(entry: str) -> None:
    landing = land(entry, "etc", None)
    assert landing.relative is None and landing.skipped


@pytest.mark.parametrize(
    ("path", "reached"),
    [
        ("/proc/1/status", False),
        ("/sys", False),
        ("/dev/shm/x", False),
        ("/devices", True),
        ("/www/proc", True),
    ],
)
def test_what_is_mounted_over_a_container_is_out_of_the_archive_apis_reach(path: str, reached: bool) -> None:
    assert (beneath_a_mount(path) is None) == reached


def test_upload_parent_and_name() -> None:
    assert archive_parent_and_name("/a/b c") == ("/a", "b c")
    assert archive_parent_and_name("/x") == ("/", "x")
    with pytest.raises(InvalidTarget):
        archive_parent_and_name("/")


def test_human_size() -> None:
    assert human_size(10) == "10 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(100 * 1024 * 1024) == "100.0 MiB"


def test_the_helper_joins_the_targets_network_and_is_labelled() -> None:
    argv = helper_argv(("/usr/bin/docker",), "abc123", "toolbox:test", "debugbox-forward-1")
    assert argv[:3] == ("/usr/bin/docker", "run", "-d")
    assert ("--network", "container:abc123") == argv[argv.index("--network") : argv.index("--network") + 2]
    assert f"{FORWARD_LABEL}=abc123" in argv and "--rm" in argv
    assert "--privileged" not in argv
    with pytest.raises(InvalidTarget):
        helper_argv(("docker",), "abc", "bad\nimage", "h")


def test_connections_go_to_the_targets_loopback() -> None:
    assert connect_argv(("podman",), "h", 9090) == ("podman", "exec", "-i", "h", "nc", "127.0.0.1", "9090")
    for bad in ("0", "65536", "-1", "http"):
        with pytest.raises(InvalidTarget):
            validate_port(bad)
    assert connect_argv(("docker",), "h", 80, "::1")[-2:] == ("::1", "80")
    with pytest.raises(ValueError):
        connect_argv(("docker",), "h", 80, "-e/bin/sh")  # an address, never an option


#: `/proc/net/tcp` then `tcp6` as the kernel prints them (x86: each 32-bit word little-endian); port 0x1F90 = 8080.
_V4 = """  sl  local_address rem_address   st tx_queue
   0: {v4}:1F90 00000000:0000 0A 00000000:00000000
   1: 0100007F:9618 0100007F:1F90 01 00000000:00000000"""
_V6 = """  sl  local_address                         remote_address                        st
   0: {v6}:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000"""


@pytest.mark.parametrize(
    ("v4", "v6", "expected"),
    [
        ("00000000", None, "127.0.0.1"),  # 0.0.0.0
        ("0100007F", None, "127.0.0.1"),  # 127.0.0.1
        ("0400A8C0", None, "192.168.0.4"),  # only the namespace's own address
        (None, "00000000000000000000000000000000", "127.0.0.1"),  # `::`: dual-stack, IPv6 off or not
        (None, "00000000000000000000000001000000", "::1"),  # the IPv6 loopback only (Node's `localhost`)
        ("0400A8C0", "00000000000000000000000001000000", "::1"),  # a loopback before an outside address
        (None, None, None),  # nothing listens (the connection that closes is the only other line)
    ],
)
def test_the_forward_connects_where_the_app_listens(
    v4: str | None, v6: str | None, expected: str | None
) -> None:
    text = "\n".join(
        [_V4.format(v4=v4) if v4 else _V4.splitlines()[0], _V6.format(v6=v6) if v6 else _V6.splitlines()[0]]
    )
    assert listening_address(8080, text) == expected
    assert listening_address(8081, text) is None


def _pcap(*payloads: bytes, cut: int = 0) -> bytes:
    import struct

    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 113)
    body = b"".join(struct.pack("<IIII", 0, 0, len(p), len(p)) + p for p in payloads)
    data = head + body
    return data[: len(data) - cut] if cut else data


def test_a_pcap_is_counted_and_a_cut_off_one_is_said_so() -> None:
    full = summarize_pcap(_pcap(b"a" * 60, b"b" * 1500))
    assert (full.packets, full.captured_bytes, full.link_type, full.truncated) == (2, 1560, 113, False)
    cut = summarize_pcap(_pcap(b"a" * 60, b"b" * 1500, cut=10))
    assert (cut.packets, cut.truncated) == (1, True)
    assert summarize_pcap(_pcap()).packets == 0
    with pytest.raises(ValueError, match="not a pcap"):
        summarize_pcap(b"\r\n" + _pcap(b"x"))  # what a TTY does to a pcap: no longer one


def test_the_capture_helper_has_no_tty_and_only_the_capabilities_it_needs() -> None:
    argv = capture_argv(("docker",), "abc", "toolbox:test", "cap-1", "tcp port 8080", count=5)
    assert "-t" not in argv and "-it" not in argv and "--privileged" not in argv
    assert argv[argv.index("--entrypoint") + 1] == "tcpdump"
    assert argv[-8:] == ("-c", "5", "-w", "-", "--", "tcp", "port", "8080")
    assert f"{CAPTURE_LABEL}=abc" in argv
    for bad in ("-w /etc/passwd", "port 80\n-w x", "x" * 1001):
        with pytest.raises(InvalidTarget):
            capture_argv(("docker",), "abc", "toolbox:test", "cap-1", bad)
    with pytest.raises(InvalidTarget):
        capture_argv(("docker",), "abc", "toolbox:test", "cap-1", interface="-w")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (
            'docker: Error response from daemon: exec: "tcpdump": executable file not found in $PATH: unknown\n\n'
            "Run 'docker run --help' for more information\n",
            'docker: Error response from daemon: exec: "tcpdump": executable file not found in $PATH: unknown',
        ),
        (
            "Unable to find image 'tb:1' locally\ndocker: Error response from daemon: Get \"https://r/v2/\": "
            "no such host\n\nRun 'docker run --help' for more information\n",
            "Unable to find image 'tb:1' locally; docker: Error response from daemon: Get \"https://r/v2/\": "
            "no such host",
        ),
        (
            "tcpdump: any: You don't have permission to capture on that device\n",
            "tcpdump: any: You don't have permission to capture on that device",
        ),
        ("\n", None),
    ],
)
def test_a_failed_engine_command_is_said_in_the_engines_own_sentence(output: str, reason: str | None) -> None:
    assert engine_cli_reason(output) == reason
