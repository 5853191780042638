"""The snapshot session's clean-up (`edge/snapshot._cleanup`) when the engine's CLI stops answering: real
processes stand in for the engine's commands (a shell that fails as a CLI without its daemon does), so the
clean-up's own reading of their answers is what is tested."""

from __future__ import annotations

import io
import time
from pathlib import Path

from debugbox.core.targets.container_strategy import SnapshotSession
from debugbox.edge import snapshot

#: What `docker ps` says and does once its daemon is gone.
GONE = (
    "sh",
    "-c",
    "echo 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?' >&2; exit 1",
)


def session(container_left: tuple[str, ...], removed: str) -> SnapshotSession:
    """A session whose removals append their name to `removed` (a file), and whose `ps` is `container_left`."""

    def remove(what: str) -> tuple[str, ...]:
        return ("sh", "-c", f"echo {what} >> {removed}")

    return SnapshotSession(
        commit=("true",), volume=("true",), lend=("true",), run=("true",),
        remove_container=remove("container"), container_left=container_left,
        remove_image=remove("image"), remove_volume=remove("volume"), logs=("true",),
        image="debugbox-snapshot:abcd", container="debugbox-snapshot-abcd",
    )  # fmt: skip


def test_an_engine_that_stopped_answering_is_said_at_once_with_the_commands_to_run_later(
    tmp_path: Path,
) -> None:
    # It waited the whole minute, then said the container "was still there", then failed to remove the rest.
    err = io.StringIO()
    removed = tmp_path / "removed"
    start = time.monotonic()
    snapshot._cleanup(session(GONE, str(removed)), err, wait=60)
    assert time.monotonic() - start < 10
    (line,) = err.getvalue().splitlines()
    assert line.startswith("debugbox: the engine no longer answers (Cannot connect to the Docker daemon"), (
        line
    )
    assert "once it answers, remove them with: sh -c 'echo container" in line
    assert "still there" not in line
    assert removed.read_text().split() == ["container"]  # image and volume: not tried against a gone engine


def test_a_container_being_removed_is_waited_for_then_the_image_and_volume_go(tmp_path: Path) -> None:
    # `ps` lists the container twice (the engine still removing it), then nothing.
    count = tmp_path / "count"
    listing = ("sh", "-c", f"echo x >> {count}; [ $(wc -l < {count}) -gt 2 ] || echo abc123")
    err = io.StringIO()
    removed = tmp_path / "removed"
    snapshot._cleanup(session(listing, str(removed)), err, wait=60)
    assert err.getvalue() == ""
    assert removed.read_text().split() == ["container", "image", "volume"]
