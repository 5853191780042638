// "Clean Up Debug Copies": the arguments of `debugbox.cleanupCopies` from the user's settings. Pure (no vscode
// import) so the unit tests run under node:test; the command itself is in ../dataCommands.ts.

/** `{context?, namespace?}` from `debugbox.kubernetes.context` / `.namespace`: only the ones set (non-blank), so
 * the server falls back to the kubeconfig's current context and its namespace otherwise. */
export function cleanupArgs(context: unknown, namespace: unknown): Record<string, string> {
  const args: Record<string, string> = {};
  if (typeof context === "string" && context.trim() !== "") {
    args.context = context.trim();
  }
  if (typeof namespace === "string" && namespace.trim() !== "") {
    args.namespace = namespace.trim();
  }
  return args;
}
