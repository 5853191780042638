// The `debugbox-target:` file system: a read-only view of a Docker or Podman container's files, backed by the
// server's `debugbox.statTargetPath` / `readTargetDirectory` / `readTargetFile` (the engine's archive API: nothing
// runs inside the target, so distroless and stopped containers work). Registered read-only: VS Code offers no
// edit, save, rename or delete on it; uploads go through "Upload…" (with a confirmation naming the target path).

import * as vscode from "vscode";
import { ServerCommand } from "./common/constants";
import { failureOf } from "./common/failures";
import { decodeTarget, errorKind, shownText, targetPathOf, toBytes, toListing, toStat, uploadChanges } from "./common/targetFs";

export type Execute = (command: string, args: unknown[]) => Promise<unknown>;

function fsError(err: unknown, uri: vscode.Uri, command: string): vscode.FileSystemError {
  const text = failureOf(err, command).text; // the server's sentence, without the command's id
  switch (errorKind(text)) {
    case "FileNotFound":
      return vscode.FileSystemError.FileNotFound(uri);
    case "FileIsADirectory":
      return vscode.FileSystemError.FileIsADirectory(uri);
    case "FileNotADirectory":
      return vscode.FileSystemError.FileNotADirectory(uri);
    default:
      return vscode.FileSystemError.Unavailable(`debugbox: ${shownText(text)}`); // it may name a path from the target
  }
}

export class TargetFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(
    private readonly execute: Execute,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private async ask(command: string, uri: vscode.Uri): Promise<unknown> {
    const target = decodeTarget(uri.authority);
    if (target === undefined) {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    try {
      return await this.execute(command, [{ target, path: targetPathOf(uri) }]); // exact, even when shown escaped
    } catch (err) {
      this.log.debug(`${command} ${uri.path}: ${err instanceof Error ? err.message : String(err)}`);
      throw fsError(err, uri, command);
    }
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const stat = toStat(await this.ask(ServerCommand.statTargetPath, uri));
    if (!stat) {
      throw vscode.FileSystemError.Unavailable("debugbox: unexpected answer to statTargetPath");
    }
    return stat;
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const listing = toListing(await this.ask(ServerCommand.readTargetDirectory, uri));
    if (listing.truncated) {
      void vscode.window.showWarningMessage(`debugbox: the listing of ${uri.path} is incomplete (too many entries or bytes to read).`);
    }
    return listing.entries;
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const bytes = toBytes(await this.ask(ServerCommand.readTargetFile, uri));
    if (!bytes) {
      throw vscode.FileSystemError.Unavailable("debugbox: unexpected answer to readTargetFile");
    }
    return bytes;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // a snapshot view: the archive API has no change events
  }

  /** debugbox's own upload wrote `targetPath` in `target`: VS Code re-reads an open editor of it (unless it has
   * unsaved changes) — the only change to a target this view learns of. */
  uploaded(target: string, targetPath: string, replaced: boolean): void {
    this.changed.fire(uploadChanges(target, targetPath, replaced).map((c) => ({ type: c.type, uri: vscode.Uri.from(c.uri) })));
  }

  private readOnly(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(`${uri.path}: the container's file view is read-only (use debugbox: Upload…)`);
  }

  createDirectory(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  writeFile(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  delete(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  rename(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
}
