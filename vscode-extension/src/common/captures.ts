// The captures "debugbox: Capture Traffic…" started and that still run: which terminal is whose, and which one a
// stop means. Several may run at once (two containers, or the same one twice); each has its own status bar item,
// and a click on it stops that capture, never another one. The palette's "Stop Capture" stops the only one, or
// asks which when there are several.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

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

/** What a stop request means: one capture to stop, a pick among several, or nothing runs. */
export type StopChoice =
  | { kind: "stop"; capture: RunningCapture }
  | { kind: "pick"; captures: RunningCapture[] }
  | { kind: "none" };

export class RunningCaptures {
  private readonly running = new Map<string, RunningCapture>();
  private next = 0;

  /** Register a capture; the returned id names it in `remove` and in a stop request. */
  add(name: string, output: string, stop: () => void): RunningCapture {
    this.next += 1;
    const capture = { id: `capture-${this.next}`, name, output, stop };
    this.running.set(capture.id, capture);
    return capture;
  }

  /** The capture ended (or its terminal closed): only this one is forgotten. */
  remove(id: string): void {
    this.running.delete(id);
  }

  list(): RunningCapture[] {
    return [...this.running.values()];
  }

  /** `arg`: the status bar item's capture id; anything else (the palette) means the only one, or a pick. A
   * status bar item of a capture that has just ended stops nothing else. */
  choose(arg: unknown): StopChoice {
    if (typeof arg === "string" && arg.startsWith("capture-")) {
      const one = this.running.get(arg);
      return one ? { kind: "stop", capture: one } : { kind: "none" };
    }
    const all = this.list();
    if (all.length === 0) {
      return { kind: "none" };
    }
    return all.length === 1 ? { kind: "stop", capture: all[0] } : { kind: "pick", captures: all };
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
