// When the language server is restarted, decided in one place without VS Code (client.ts wires VS Code's events to
// it; tested in src/test/restarts.test.ts):
// - after a crash, at most CRASH_LIMIT times within CRASH_WINDOW_MS, then not again: the user is told instead of the
//   server being restarted in a loop;
// - when the workspace becomes trusted: its settings that decide what runs now apply, and the interpreter may change
//   (in restricted mode no interpreter inside the workspace is run, not even the Python extension's choice);
// - when the interpreter setting changes (RESTART_KEYS); other debugbox settings are sent to the running server;
// - when the Python extension's interpreter changes, only if that interpreter is the one the server runs on.

export const CRASH_LIMIT = 3;
export const CRASH_WINDOW_MS = 180_000;

/** What to do when the server's connection closed unexpectedly. */
export type CrashDecision = { restart: true; note: string } | { restart: false; message: string };

/** The parts of the client the policy drives. */
export interface RestartTarget {
  restart(): void;
  /** Send the changed settings to the server, if it is running; false when it is not. */
  notifySettings(): boolean;
  info(message: string): void;
}

export class RestartPolicy {
  private crashes: number[] = [];
  /** Where the running server's interpreter came from ("Python extension", "PATH", …), once started. */
  interpreterSource: string | undefined;

  constructor(
    private readonly target: RestartTarget,
    private readonly restartKeys: readonly string[],
    private readonly section: string,
  ) {}

  /** The server stopped unexpectedly at `now` (ms): restart it, unless it has already crashed too often. */
  serverClosed(now: number): CrashDecision {
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    const count = this.crashes.length;
    if (count <= CRASH_LIMIT) {
      return { restart: true, note: `the server stopped unexpectedly; restarting it (${count} of ${CRASH_LIMIT})` };
    }
    const minutes = CRASH_WINDOW_MS / 60_000;
    return {
      restart: false,
      message: `The debugbox server stopped ${count} times in ${minutes} minutes; see debugbox: Show Output, then Restart Server.`,
    };
  }

  trustGranted(): void {
    this.target.info("workspace trusted: applying its debugbox settings");
    this.target.restart();
  }

  /** A configuration change; `affects` is `ConfigurationChangeEvent.affectsConfiguration`. */
  configurationChanged(affects: (section: string) => boolean): void {
    if (!affects(this.section)) {
      return;
    }
    if (this.restartKeys.some((k) => affects(`${this.section}.${k}`))) {
      this.target.info("the Python interpreter setting changed: restarting the server");
      this.target.restart();
      return;
    }
    // The server re-pulls `workspace/configuration`; a server that is not running reads them when it starts.
    const sent = this.target.notifySettings();
    this.target.info(`debugbox settings changed${sent ? ": notifying the server" : ""}`);
  }

  pythonExtensionInterpreterChanged(): void {
    if (this.interpreterSource === "Python extension") {
      this.target.info("the Python extension's interpreter changed: restarting the server");
      this.target.restart();
    }
  }
}
