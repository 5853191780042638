// The port forwards "debugbox: Forward Port…" started and that still run (`Running`: which one a stop means),
// and what each one's status bar item and notifications say. A forward shows as soon as its local port accepts
// connections (not when its terminal opens, before the helper runs), each with its own item; "Stop Port Forward"
// stops the only one, or asks which.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

import { Running } from "./running";

export interface RunningForward {
  /** `forward-<local port>`: one forward per local port (the server refuses a port in use). */
  id: string;
  local: number;
  url: string;
  /** The target as the user picked it, and its port. */
  name: string;
  port: number;
  /** Closes its terminal: the CLI stops the forward and removes its helper. */
  stop(): void;
}

/** One forward per local port (the server refuses a port in use): a new one on a port takes its id. */
export class RunningForwards extends Running<RunningForward> {
  constructor() {
    super("forward-");
  }

  add(local: number, url: string, name: string, port: number, stop: () => void): RunningForward {
    return this.keep({ id: `forward-${local}`, local, url, name, port, stop });
  }

  override list(): RunningForward[] {
    return super.list().sort((a, b) => a.local - b.local);
  }
}

/** The status bar item of a forward that is up. */
export function forwardItem(f: { local: number; name: string; port: number; url: string }): { text: string; tooltip: string } {
  return {
    text: `$(plug) ${f.local} → ${f.name}:${f.port}`,
    tooltip: `debugbox forwards ${f.url} to ${f.name}:${f.port}; click to open it in the browser or stop it`,
  };
}

/** Said once the forward's local port accepts connections. */
export function forwardUpMessage(url: string, name: string, port: number): string {
  return `debugbox: forwarding ${url} → ${name}:${port} (its status bar item or closing its terminal stops it).`;
}

/** Said when the forward's terminal ended before its local port accepted a connection. */
export function forwardEndedMessage(local: number, name: string, port: number): string {
  return `debugbox: the forward of ${name}:${port} to local port ${local} ended before it listened; its terminal says why.`;
}
