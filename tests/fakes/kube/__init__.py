"""A fake Kubernetes API server for tests, split by job (see tests/fakes/README.md for what it models):

- `server`: HTTPS, the request pipeline and the routes (`FakeKubeAPIServer`);
- `tls`: the test run's CA, serving and client certificates;
- `rbac`: authentication (tokens, client certificates, anonymous) and the RBAC model, SelfSubjectAccessReview;
- `store`: pods, namespaces, resource versions, watch events, create-time defaults;
- `selectors`, `patches`, `validation`, `admission` (Pod Security), `status` (Status bodies);
- `kubelet`: the simulated scheduler and kubelet (lifecycle, image table); `docker_kubelet`: real containers;
- `streaming`: the websocket remote-command protocol (v5.channel.k8s.io) for exec and attach;
- `portforward` and `spdy`: port-forward's SPDY/3.1 session (websocket tunnel or SPDY upgrade) to a pod's ports.
"""

from tests.fakes.kube.kubelet import ImageSpec, ImageTable, Lifecycle
from tests.fakes.kube.server import ADMIN, FakeKubeAPIServer, Faults, RecordedRequest
from tests.fakes.kube.validation import MIRROR_ANNOTATION

__all__ = [
    "ADMIN",
    "MIRROR_ANNOTATION",
    "FakeKubeAPIServer",
    "Faults",
    "ImageSpec",
    "ImageTable",
    "Lifecycle",
    "RecordedRequest",
]
