"""What the pod strategy validates: pod creation and `pods/ephemeralcontainers` updates.

Sources, all in `pkg/apis/core/validation/validation.go` unless named:
- `ValidatePodCreate` → `ValidatePodMetadataAndSpec` → `ValidateObjectMeta` with `ValidatePodName`
  (a DNS-1123 subdomain; `staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go`: "name or
  generateName is required") and `ValidatePodSpec`: `validateContainers` / `validateInitContainers`
  (`spec.containers` required, names DNS-1123 labels unique across containers and init containers, `image`
  required, `imagePullPolicy` and `terminationMessagePolicy` among their values), `validateRestartPolicy`,
  `ValidateVolumes` (names DNS-1123 labels, unique; exactly one volume source: "must specify a volume type")
  and `ValidateVolumeMounts` (a mount's `name` must be a volume of the pod: NotFound; `mountPath` required and
  unique within the container: "must be unique").
- `ValidatePodEphemeralContainersUpdate` and `validateEphemeralContainers`: only ephemeral containers change,
  none is removed or changed, names unique across all containers, `targetContainerName` names a container
  or init container, no ports, probes, lifecycle, resources; static (mirror) pods refuse them.
- Messages: `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go` (`IsDNS1123Label`,
  `IsDNS1123Subdomain`, `RegexError`, `MaxLenError`).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.kube.status import FieldError

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(f"^{_LABEL_FMT}$")
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL_FMT}(\.{_LABEL_FMT})*$")
DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    f"end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{_LABEL_FMT}')"
)
DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{_LABEL_FMT}(\\.{_LABEL_FMT})*')"
)
_FORBIDDEN_EPHEMERAL_FIELDS = (
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "resizePolicy",
    "restartPolicy",
)
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")


def _supported(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def dns1123_label_errors(value: str, path: str) -> list[FieldError]:
    """`ValidateDNS1123Label`: the label rule, then the length rule."""
    errors = []
    if not _DNS1123_LABEL.match(value):
        errors.append(FieldError("Invalid", path, DNS1123_LABEL_MESSAGE, value))
    if len(value) > 63:
        errors.append(FieldError("Invalid", path, "must be no more than 63 characters", value))
    return errors


def pod_name_errors(name: str) -> list[FieldError]:
    """`ValidatePodName` = `NameIsDNSSubdomain`."""
    errors = []
    if len(name) > 253:
        errors.append(FieldError("Invalid", "metadata.name", "must be no more than 253 characters", name))
    if not _DNS1123_SUBDOMAIN.match(name):
        errors.append(FieldError("Invalid", "metadata.name", DNS1123_SUBDOMAIN_MESSAGE, name))
    return errors


def _container_errors(c: Any, at: str, taken: set[str]) -> list[FieldError]:
    if not isinstance(c, dict):
        return [FieldError("Invalid", at, "must be an object", c)]
    errors: list[FieldError] = []
    name = c.get("name") or ""
    if not name:
        errors.append(FieldError("Required", f"{at}.name"))
    else:
        errors += dns1123_label_errors(name, f"{at}.name")
        if name in taken:
            errors.append(FieldError("Duplicate", f"{at}.name", value=name))
        taken.add(name)
    image = c.get("image") or ""
    if not image:
        errors.append(FieldError("Required", f"{at}.image"))
    elif image != image.strip():
        errors.append(
            FieldError("Invalid", f"{at}.image", "must not have leading or trailing whitespace", image)
        )
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in _PULL_POLICIES:
        errors.append(FieldError("NotSupported", f"{at}.imagePullPolicy", _supported(_PULL_POLICIES), policy))
    message = c.get("terminationMessagePolicy")
    if message is not None and message not in _MESSAGE_POLICIES:
        errors.append(
            FieldError(
                "NotSupported", f"{at}.terminationMessagePolicy", _supported(_MESSAGE_POLICIES), message
            )
        )
    return errors


def _volumes(volumes: list[Any]) -> tuple[set[str], list[FieldError]]:
    """`ValidateVolumes`: the names of the valid volumes, and the errors."""
    names: set[str] = set()
    errors: list[FieldError] = []
    for i, v in enumerate(volumes):
        at = f"spec.volumes[{i}]"
        v = v if isinstance(v, dict) else {}
        name = v.get("name") or ""
        if not [k for k in v if k != "name"]:  # validateVolumeSource comes first
            errors.append(FieldError("Required", at, "must specify a volume type"))
        if not name:
            errors.append(FieldError("Required", f"{at}.name"))
        else:
            errors += dns1123_label_errors(name, f"{at}.name")
        if name in names:
            errors.append(FieldError("Duplicate", f"{at}.name", value=name))
        names.add(name)
    return names, errors


def _mount_errors(c: dict[str, Any], at: str, volumes: set[str]) -> list[FieldError]:
    """`ValidateVolumeMounts` for one container."""
    errors: list[FieldError] = []
    paths: set[str] = set()
    for j, m in enumerate(c.get("volumeMounts") or []):
        where = f"{at}.volumeMounts[{j}]"
        m = m if isinstance(m, dict) else {}
        name, path = m.get("name") or "", m.get("mountPath") or ""
        if not name:
            errors.append(FieldError("Required", f"{where}.name"))
        if name not in volumes:
            errors.append(FieldError("NotFound", f"{where}.name", value=name))
        if not path:
            errors.append(FieldError("Required", f"{where}.mountPath"))
        elif path in paths:
            errors.append(FieldError("Invalid", f"{where}.mountPath", "must be unique", path))
        paths.add(path)
    return errors


def validate_pod_create(pod: dict[str, Any]) -> list[FieldError]:
    """`ValidatePodCreate` for what a copy pod carries. `pod` has its final name (generateName applied)."""
    errors: list[FieldError] = []
    name = (pod.get("metadata") or {}).get("name") or ""
    if not name:
        errors.append(FieldError("Required", "metadata.name", "name or generateName is required"))
    else:
        errors += pod_name_errors(name)
    spec = pod.get("spec") or {}
    taken: set[str] = set()
    containers = spec.get("containers") or []
    if not containers:
        errors.append(FieldError("Required", "spec.containers"))
    volumes, volume_errors = _volumes(spec.get("volumes") or [])
    errors += volume_errors
    for i, c in enumerate(containers):
        errors += _container_errors(c, f"spec.containers[{i}]", taken)
        errors += _mount_errors(c, f"spec.containers[{i}]", volumes)
    for i, c in enumerate(spec.get("initContainers") or []):
        errors += _container_errors(c, f"spec.initContainers[{i}]", taken)
        errors += _mount_errors(c, f"spec.initContainers[{i}]", volumes)
    if spec.get("ephemeralContainers"):
        # validateEphemeralContainers on create: a new pod may not bring them along.
        errors.append(FieldError("Forbidden", "spec.ephemeralContainers", "cannot be set on create"))
    policy = spec.get("restartPolicy", "Always")
    if policy not in _RESTART_POLICIES:
        errors.append(FieldError("NotSupported", "spec.restartPolicy", _supported(_RESTART_POLICIES), policy))
    return errors


def validate_ephemeral_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    """`ValidatePodEphemeralContainersUpdate` (with `validateEphemeralContainers`)."""
    if MIRROR_ANNOTATION in (old["metadata"].get("annotations") or {}):
        return [FieldError("Forbidden", "", "static pods do not support ephemeral containers")]
    errors: list[FieldError] = []
    spec_path = "spec.ephemeralContainers"
    new_list = new["spec"].get("ephemeralContainers") or []
    by_name = {c.get("name"): c for c in new_list if isinstance(c, dict)}
    for old_c in old["spec"].get("ephemeralContainers") or []:
        if old_c["name"] not in by_name:
            errors.append(
                FieldError(
                    "Forbidden",
                    spec_path,
                    f'existing ephemeral containers "{old_c["name"]}" may not be removed\n',
                )
            )
        elif by_name[old_c["name"]] != old_c:
            errors.append(
                FieldError(
                    "Forbidden",
                    f"{spec_path}[{old_c['name']}]",
                    f'existing ephemeral containers "{old_c["name"]}" may not be changed\n',
                )
            )
    spec = old["spec"]
    taken = {c["name"] for c in spec.get("containers", []) + spec.get("initContainers", [])}
    targets = taken
    seen: set[str] = set()
    for i, c in enumerate(new_list):
        at = f"{spec_path}[{i}]"
        if not isinstance(c, dict):
            errors.append(FieldError("Invalid", at, "must be an object", c))
            continue
        name = c.get("name") or ""
        if not name:
            errors.append(FieldError("Required", f"{at}.name"))
        elif dns1123_label_errors(name, f"{at}.name"):
            errors += dns1123_label_errors(name, f"{at}.name")
        elif name in taken or name in seen:
            errors.append(FieldError("Duplicate", f"{at}.name", value=name))
        seen.add(name)
        if not c.get("image"):
            errors.append(FieldError("Required", f"{at}.image"))
        target = c.get("targetContainerName")
        if target and target not in targets:
            errors.append(FieldError("NotFound", f"{at}.targetContainerName", value=target))
        for forbidden in _FORBIDDEN_EPHEMERAL_FIELDS:
            if c.get(forbidden):
                errors.append(
                    FieldError("Forbidden", f"{at}.{forbidden}", "cannot be set for an Ephemeral Container")
                )
        resources = c.get("resources") or {}
        if resources.get("limits") or resources.get("requests"):
            errors.append(
                FieldError("Forbidden", f"{at}.resources", "cannot be set for an Ephemeral Container")
            )
    return errors
