// What a failed server command (`workspace/executeCommand` rejected with a ResponseError) tells the user: its
// sentence without the command's name (the server puts the name first for logs and scripts), whether the server
// has already shown it (`data: {"shown": true}`: showing it again would say it twice), and whether it is the
// "exists in the target" refusal the upload turns into a "Replace?" question (`data: {"exists": true}`), and
// whether the user cancelled it (`data: {"cancelled": true}`: the question to add a pod's debug container). The
// server's side is `shown_failure` in server/debugbox/lsp/handlers/arguments.py; see docs/commands.md.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

export interface Failure {
  /** One sentence for the user, without the command's name. */
  text: string;
  /** The server showed `text` already (window/showMessage). */
  shown: boolean;
  /** A copy into a target refused because the path exists there (copy again with `force` to replace it). */
  exists: boolean;
  /** The user said Cancel to the server's question: nothing to report. */
  cancelled: boolean;
}

function flag(data: unknown, key: string): boolean {
  return typeof data === "object" && data !== null && (data as Record<string, unknown>)[key] === true;
}

export function failureOf(err: unknown, command: string): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const data = typeof err === "object" && err !== null ? (err as { data?: unknown }).data : undefined;
  const text = message.startsWith(`${command}: `) ? message.slice(command.length + 2) : message;
  return { text, shown: flag(data, "shown"), exists: flag(data, "exists"), cancelled: flag(data, "cancelled") };
}
