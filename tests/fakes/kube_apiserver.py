"""The fake Kubernetes API server's old import path: everything lives in the `tests.fakes.kube` package now."""

from tests.fakes.kube import (
    ADMIN,
    MIRROR_ANNOTATION,
    FakeKubeAPIServer,
    Faults,
    ImageSpec,
    ImageTable,
    Lifecycle,
    RecordedRequest,
)
from tests.fakes.kube.selectors import labels_match, parse_label_selector

__all__ = [
    "ADMIN",
    "MIRROR_ANNOTATION",
    "FakeKubeAPIServer",
    "Faults",
    "ImageSpec",
    "ImageTable",
    "Lifecycle",
    "RecordedRequest",
    "labels_match",
    "parse_label_selector",
]
