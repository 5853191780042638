"""The Podman fixtures (images built once, per-test containers removed afterwards), shared by the Podman tests."""

from tests.integration.podman.test_podman_live import podman_images, started

__all__ = ["podman_images", "started"]
