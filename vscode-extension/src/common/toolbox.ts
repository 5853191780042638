// "debugbox: Build Local Toolbox Image": the terminal that runs `debugbox toolbox build` with the interpreter and
// bundled libraries the server runs on, and what to offer once it ended. Pure: tested under plain Node.
//
// The image name mirrors LOCAL_TOOLBOX in server/debugbox/core/targets/container_strategy.py (a test checks it).

import type { Launch } from "./python";
import type { TerminalSpec } from "./terminals";

export const LOCAL_TOOLBOX = "debugbox/toolbox:local";
export const ENGINES = ["docker", "podman"] as const;
export type Engine = (typeof ENGINES)[number];

/** The terminal whose process is `python -P -m debugbox toolbox build` (never a shell with a command typed in). */
export function toolboxBuildTerminal(launch: Launch, engine: Engine): TerminalSpec {
  return {
    name: `debugbox: build ${LOCAL_TOOLBOX}`,
    shellPath: launch.command,
    shellArgs: ["-P", "-m", "debugbox", "toolbox", "build", "--runtime", engine, "--tag", LOCAL_TOOLBOX],
    // The extension's folder, as for the server: the workspace is never on sys.path.
    cwd: launch.cwd,
    env: launch.env,
  };
}

export interface ToolboxOffer {
  message: string;
  /** The button that sets debugbox.toolboxImage; absent when there is nothing to set. */
  button?: string;
}

/** What to say when the build ended: offer the built image as debugbox.toolboxImage, unless it already is. A
 * failed build says nothing more: its terminal shows the one line saying why. */
export function toolboxOffer(exitCode: number | undefined, current: string | undefined): ToolboxOffer | undefined {
  if (exitCode !== 0) {
    return undefined;
  }
  if (current === LOCAL_TOOLBOX) {
    return { message: `debugbox: built ${LOCAL_TOOLBOX}; it already is debugbox.toolboxImage.` };
  }
  return {
    message: `debugbox: built ${LOCAL_TOOLBOX}. Use it as debugbox.toolboxImage (your user settings; now ${current || "the default"})?`,
    button: "Use It",
  };
}

/** The arguments of `debugbox.openDebugTerminal` for a picked target: "Open Raw Shell…" adds `raw` (the toolbox's
 * plain shell, without the session bootstrap). */
export function openTerminalArgs(target: string, strategy: string, raw: boolean): Record<string, unknown> {
  return raw ? { target, strategy, raw: true } : { target, strategy };
}
