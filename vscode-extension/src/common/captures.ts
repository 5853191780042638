// The captures "debugbox: Capture Traffic…" started and that still run, and which terminal is whose. Several
// may run at once (two containers, or the same one twice); each has its own status bar item, and a click on it
// stops that capture, never another one (`Running`). The palette's "Stop Capture" stops the only one, or asks
// which when there are several.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

import { Running } from "./running";

export interface RunningCapture {
  /** Unique for the extension's life: the status bar item's command argument. */
  id: string;
  /** The target as the user picked it, for the item and the pick. */
  name: string;
  /** The pcap's local path. */
  output: string;
  /** Ctrl-C into its terminal. */
  stop(): void;
}

export class RunningCaptures extends Running<RunningCapture> {
  private next = 0;

  constructor() {
    super("capture-");
  }

  /** Register a capture; its id names it in a stop request. */
  add(name: string, output: string, stop: () => void): RunningCapture {
    this.next += 1;
    return this.keep({ id: `capture-${this.next}`, name, output, stop });
  }
}

/** Whether a terminal that opened is the one the server opened for this capture: its process is the capture's
 * argv (`argv[0]` the shell path, the rest its arguments; the server's answer carries the argv). Two captures
 * started together each find their own terminal, which a match on the title alone ("debugbox: capture NAME", the
 * same for the same target) could not tell apart. */
export function isCaptureTerminal(shellPath: string | undefined, shellArgs: readonly string[] | string | undefined, argv: unknown): boolean {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    return false;
  }
  if (shellPath !== argv[0] || !Array.isArray(shellArgs) || shellArgs.length !== argv.length - 1) {
    return false;
  }
  return shellArgs.every((a, i) => a === argv[i + 1]);
}
