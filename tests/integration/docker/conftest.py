"""Fixtures for tests that drive a real Docker engine: the test images (built once), per-test containers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require
from tests.integration.docker.engine import Containers, build_test_images, busybox_ok, engine_ok


@pytest.fixture(scope="session")
def images() -> None:
    require(busybox_ok(), "/bin/busybox (Debian's busybox-static) is needed to build the test images")
    require(engine_ok(), "no Docker engine answers (scripts/start-docker.sh starts one)")
    build_test_images()


@pytest.fixture
def containers(images: None) -> Iterator[Containers]:
    pool = Containers()
    try:
        yield pool
    finally:
        pool.cleanup()
