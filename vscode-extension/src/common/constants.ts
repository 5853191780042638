// Names debugbox owns on the wire, mirrored from server/debugbox/protocol.py (keep both in step; a test checks it),
// and the extension's own command ids.
//
// Command routing: the server advertises its commands (`debugbox.*`) in `executeCommandProvider`, and
// vscode-languageclient registers each of them as a VS Code command so that code actions and code lenses can run
// them. The extension's palette commands therefore use a separate namespace, `debugbox.client.*`: registering a
// server id a second time would fail with "command already exists". Client commands reach the server with
// `workspace/executeCommand`.

/** Server commands (`workspace/executeCommand`). */
export const ServerCommand = {
  generateDebugDockerfile: "debugbox.generateDebugDockerfile",
  addShareProcessNamespace: "debugbox.addShareProcessNamespace",
  addDebugSidecar: "debugbox.addDebugSidecar",
  listTargets: "debugbox.listTargets",
  debugCommand: "debugbox.debugCommand",
  openDebugTerminal: "debugbox.openDebugTerminal",
  copyFromTarget: "debugbox.copyFromTarget",
  copyToTarget: "debugbox.copyToTarget",
  forwardPort: "debugbox.forwardPort",
  captureTraffic: "debugbox.captureTraffic",
  statTargetPath: "debugbox.statTargetPath",
  readTargetDirectory: "debugbox.readTargetDirectory",
  readTargetFile: "debugbox.readTargetFile",
  cleanupCopies: "debugbox.cleanupCopies",
} as const;

/** Server → client request asking the editor to open a terminal running `argv` directly. */
export const OPEN_TERMINAL_METHOD = "debugbox/openTerminal";
/** Clients opt in with `capabilities.experimental.debugbox.openTerminal = true`. */
export const EXPERIMENTAL_KEY = "debugbox";
export const EXPERIMENTAL_OPEN_TERMINAL = "openTerminal";
/** `Diagnostic.source` of everything the server publishes. */
export const SOURCE = "debugbox";

/** The extension's own commands (command palette, category "debugbox"). */
export const ClientCommand = {
  generateDebugDockerfile: "debugbox.client.generateDebugDockerfile",
  addShareProcessNamespace: "debugbox.client.addShareProcessNamespace",
  openDebugTerminal: "debugbox.client.openDebugTerminal",
  openRawShell: "debugbox.client.openRawShell",
  buildToolboxImage: "debugbox.client.buildToolboxImage",
  copyDebugCommand: "debugbox.client.copyDebugCommand",
  restartServer: "debugbox.client.restartServer",
  showOutput: "debugbox.client.showOutput",
  copyFromTarget: "debugbox.client.copyFromTarget",
  copyToTarget: "debugbox.client.copyToTarget",
  forwardPort: "debugbox.client.forwardPort",
  captureTraffic: "debugbox.client.captureTraffic",
  stopCapture: "debugbox.client.stopCapture",
  stopForward: "debugbox.client.stopForward",
  browseTargetFiles: "debugbox.client.browseTargetFiles",
  downloadTargetFile: "debugbox.client.downloadTargetFile",
  cleanupCopies: "debugbox.client.cleanupCopies",
} as const;

/** Oldest Python that runs the server. */
export const MIN_PYTHON: readonly [number, number] = [3, 11];
