"""Names debugbox owns on the wire: server commands, the custom request, the experimental capability.

Mirrored in `vscode-extension/src/common/constants.ts`; keep both in step.
"""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    """Server commands (`workspace/executeCommand`), all prefixed `debugbox.`."""

    GENERATE_DEBUG_DOCKERFILE = "debugbox.generateDebugDockerfile"
    ADD_SHARE_PROCESS_NAMESPACE = "debugbox.addShareProcessNamespace"
    ADD_DEBUG_SIDECAR = "debugbox.addDebugSidecar"
    LIST_TARGETS = "debugbox.listTargets"
    DEBUG_COMMAND = "debugbox.debugCommand"
    OPEN_DEBUG_TERMINAL = "debugbox.openDebugTerminal"
    COPY_FROM_TARGET = "debugbox.copyFromTarget"
    COPY_TO_TARGET = "debugbox.copyToTarget"
    FORWARD_PORT = "debugbox.forwardPort"
    CAPTURE_TRAFFIC = "debugbox.captureTraffic"
    STAT_TARGET_PATH = "debugbox.statTargetPath"
    READ_TARGET_DIRECTORY = "debugbox.readTargetDirectory"
    READ_TARGET_FILE = "debugbox.readTargetFile"
    CLEANUP_COPIES = "debugbox.cleanupCopies"


#: Server → client request asking the editor to open a terminal running `argv` directly.
OPEN_TERMINAL_METHOD = "debugbox/openTerminal"

#: Clients opt in with `capabilities.experimental.debugbox.openTerminal = true`.
EXPERIMENTAL_KEY = "debugbox"
EXPERIMENTAL_OPEN_TERMINAL = "openTerminal"

#: `Diagnostic.source` of everything debugbox publishes.
SOURCE = "debugbox"
