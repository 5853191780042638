"""The target's real uid/gid from an engine's `top` answer (Docker's host `ps`, Podman's psgo descriptors)."""

from __future__ import annotations

from typing import Any

import pytest
from debugbox.core.targets.process_identity import (
    TOP_ARGS,
    config_uid,
    may_remap,
    remapped_root,
    top_identity,
    unmap_ids,
)

# As the engines answered on this project's test machine (Docker 20.10 `-o pid,uid,gid`; Podman 4.3
# `hpid,user,group`) for a busybox httpd started with `--user 65532` on an image without /etc/passwd.
DOCKER = {"Processes": [["13163", "65532", "0"], ["13200", "0", "0"]], "Titles": ["PID", "UID", "GID"]}
PODMAN = {"Processes": [["18509", "65532", "0"]], "Titles": ["HPID", "USER", "GROUP"]}


def test_the_engines_are_asked_for_the_host_pid_and_effective_ids() -> None:
    assert TOP_ARGS == {"docker": "-o pid,uid,gid", "podman": "hpid,user,group"}


@pytest.mark.parametrize(
    ("answer", "pid", "expected"), [(DOCKER, 13163, (65532, 0)), (PODMAN, 18509, (65532, 0))]
)
def test_the_main_processs_row_gives_its_ids(answer: Any, pid: int, expected: tuple[int, int]) -> None:
    assert top_identity(answer, pid) == expected


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        {"Processes": [["13163", "65532", "0"]], "Titles": ["PID", "UID"]},  # no GID column
        {"Processes": [["13163", "nonroot", "0"]], "Titles": ["PID", "USER", "GROUP"]},  # a name: not guessed
        {"Processes": [["13163", "65532"]], "Titles": ["PID", "UID", "GID"]},  # a short row
        {"Processes": "x", "Titles": ["PID", "UID", "GID"]},
        {"Processes": [["99", "65532", "0"]], "Titles": ["PID", "UID", "GID"]},  # not the main process
    ],
)
def test_an_answer_that_does_not_say_it_in_numbers_gives_none(answer: Any) -> None:
    assert top_identity(answer, 13163) is None


def test_root_is_the_one_name_taken_as_a_number() -> None:
    answer = {"Processes": [["7", "65532", "root"]], "Titles": ["HPID", "USER", "GROUP"]}
    assert top_identity(answer, 7) == (65532, 0)
    assert top_identity(answer, 0) is None  # State.Pid 0: not running


def test_config_uid_reads_only_numbers() -> None:
    assert [config_uid(u) for u in ("65532", "65532:0", "nonroot", "", "0")] == [65532, 65532, None, None, 0]


# `GET /info` as Docker 20.10 answers with and without `--userns-remap=default` (the fields read; on this
# project's test machine the remapped daemon's data root was a temporary folder, here the default one).
REMAPPED_INFO = {
    "SecurityOptions": ["name=seccomp,profile=default", "name=userns"],
    "DockerRootDir": "/var/lib/docker/100000.100000",
}
PLAIN_INFO = {"SecurityOptions": ["name=seccomp,profile=default"], "DockerRootDir": "/var/lib/docker"}


def test_the_remapped_root_is_read_from_the_daemons_data_root() -> None:
    assert remapped_root(REMAPPED_INFO) == (100000, 100000)
    assert remapped_root({**REMAPPED_INFO, "DockerRootDir": "/srv/docker/231072.231072/"}) == (231072, 231072)


@pytest.mark.parametrize(
    "info",
    [
        PLAIN_INFO,
        {**PLAIN_INFO, "DockerRootDir": "/srv/100000.100000"},  # a folder named like it, without the remap
        {**REMAPPED_INFO, "DockerRootDir": "/var/lib/docker"},  # remapped, but the root does not say where
        {**REMAPPED_INFO, "DockerRootDir": None},
        {"SecurityOptions": "name=userns", "DockerRootDir": "/d/1.1"},
        None,
        [],
    ],
)
def test_no_remap_unless_the_daemon_says_so_and_where(info: Any) -> None:
    assert remapped_root(info) is None


def test_the_hosts_ids_map_back_inside_the_first_range_only() -> None:
    root = (100000, 100000)
    assert unmap_ids((165532, 100000), root) == (65532, 0)
    assert unmap_ids((100000, 165532), root) == (0, 65532)
    assert unmap_ids((99999, 100000), root) is None  # below the range: not one of the remap's IDs
    assert unmap_ids((165536, 100000), root) is None  # past dockremap's 65536: perhaps a second range


CID = "18c2793e6ea28e00d91867b4cefb0b8be4eaae0da082f1b4be5dbea689a215af"


def _paths(root: str, cid: str = CID) -> dict[str, str]:
    """An inspect answer's paths, laid out as moby lays them out under the data root `root`."""
    return {
        "Id": cid,
        "HostsPath": f"{root}/containers/{cid}/hosts",
        "ResolvConfPath": f"{root}/containers/{cid}/resolv.conf",
    }


def test_a_data_root_without_uid_gid_rules_the_remap_out() -> None:
    assert may_remap(_paths("/var/lib/docker")) is False
    assert may_remap(_paths("/home/dev/.local/share/docker")) is False  # rootless Docker
    assert may_remap({**_paths("/var/lib/docker"), "HostsPath": ""}) is False  # the other path says it


@pytest.mark.parametrize(
    "inspect",
    [
        _paths("/var/lib/docker/100000.100000"),  # a remapping daemon's layout: GET /info decides
        _paths("/srv/docker/231072.231072"),
        {**_paths("/var/lib/docker"), "Id": "another"},  # not this container's folder: not moby's layout
        {"Id": CID, "HostsPath": f"/var/lib/docker/elsewhere/{CID}/hosts"},
        {"Id": CID, "HostsPath": "", "ResolvConfPath": ""},  # a container that never ran
        {"Id": CID, "HostsPath": "relative/containers/x/hosts"},
        {"Id": CID},
        {"HostsPath": "/var/lib/docker/containers/x/hosts"},
        None,
        [],
    ],
)
def test_anything_else_leaves_the_question_to_the_daemon(inspect: Any) -> None:
    assert may_remap(inspect) is True
