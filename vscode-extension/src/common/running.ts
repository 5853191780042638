// What the palette's stop commands share ("Stop Capture", "Stop Port Forward"): the things started that still
// run, each named by an id its own status bar item carries, and which one a stop means. A click on an item stops
// that one, never another (nothing once it ended); the palette stops the only one, or asks which.
//
// Pure: no `vscode` import at run time, so the unit tests run under plain Node.

/** What a stop request means: one to stop, a pick among several, or nothing runs. */
export type StopChoice<T> = { kind: "stop"; one: T } | { kind: "pick"; all: T[] } | { kind: "none" };

export class Running<T extends { id: string; stop(): void }> {
  private readonly byId = new Map<string, T>();

  /** `prefix`: how this kind's ids start (`capture-`), so that another kind's id is not taken for one. */
  constructor(private readonly prefix: string) {}

  protected keep(item: T): T {
    this.byId.set(item.id, item);
    return item;
  }

  /** It ended (or its terminal closed): only this one is forgotten, not one that took its id since. */
  remove(item: T): void {
    if (this.byId.get(item.id) === item) {
      this.byId.delete(item.id);
    }
  }

  list(): T[] {
    return [...this.byId.values()];
  }

  /** `arg`: a status bar item's id (that one, or nothing once it ended); anything else (the palette) means the
   * only one, or a pick. */
  choose(arg: unknown): StopChoice<T> {
    if (typeof arg === "string" && arg.startsWith(this.prefix)) {
      const one = this.byId.get(arg);
      return one ? { kind: "stop", one } : { kind: "none" };
    }
    const all = this.list();
    return all.length === 0 ? { kind: "none" } : all.length === 1 ? { kind: "stop", one: all[0] } : { kind: "pick", all };
  }
}
