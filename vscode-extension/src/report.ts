// The one way the palette's commands report a failed server command: logged with the command's name; shown once,
// as the server's sentence (unless the server showed it already, or the user cancelled it). The decision is
// `failureOf` (common/failures.ts).

import * as vscode from "vscode";
import { failureOf } from "./common/failures";
import { shownText } from "./common/targetFs";

export function reportFailure(log: vscode.LogOutputChannel, command: string, err: unknown): void {
  const failure = failureOf(err, command);
  if (failure.cancelled) {
    log.info(`${command}: cancelled: ${failure.text}`);
    return;
  }
  log.error(`${command}: ${failure.text}`);
  if (!failure.shown) {
    // The sentence may name a path from the target: shown escaped (`shownText`), never with its raw controls.
    void vscode.window.showErrorMessage(`debugbox: ${shownText(failure.text)}`, "Show Output").then((c) => c && log.show());
  }
}
