// When a terminal's process has ended: shared by the terminals whose end the extension acts on (a capture's
// viewer offer, the toolbox build's settings offer).

import * as vscode from "vscode";

/**
 * Call `onEnd` once, when `terminal`'s process has ended or the terminal was closed. The process may end while its
 * terminal stays open to show what it printed, so its `exitStatus` is polled too. Disposing the result stops
 * watching without calling `onEnd`.
 */
export function whenTerminalEnds(terminal: vscode.Terminal, onEnd: () => void): vscode.Disposable {
  let watching = true;
  const stop = (): void => {
    watching = false;
    clearInterval(poll);
    closed.dispose();
  };
  const end = (): void => {
    if (watching) {
      stop();
      onEnd();
    }
  };
  const closed = vscode.window.onDidCloseTerminal((t) => t === terminal && end());
  const poll = setInterval(() => terminal.exitStatus !== undefined && end(), 500);
  return { dispose: stop };
}
