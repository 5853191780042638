import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCaptureTerminal, RunningCaptures } from "../common/captures";

describe("running captures", () => {
  it("a status bar item stops its own capture, not the one started last", () => {
    const stopped: string[] = [];
    const captures = new RunningCaptures();
    const web = captures.add("web", "/ws/web.pcap", () => stopped.push("web"));
    const db = captures.add("db", "/ws/db.pcap", () => stopped.push("db"));
    const first = captures.choose(web.id);
    assert.equal(first.kind, "stop");
    assert.equal(first.kind === "stop" && first.one.name, "web");
    if (first.kind === "stop") first.one.stop();
    assert.deepEqual(stopped, ["web"]);
    // web ended: db still has its stop, and web's (stale) item stops nothing.
    captures.remove(web);
    assert.deepEqual(captures.choose(web.id), { kind: "none" });
    const second = captures.choose(db.id);
    assert.equal(second.kind === "stop" && second.one, db);
  });

  it("the palette stops the only capture, asks among several, and says when none runs", () => {
    const captures = new RunningCaptures();
    assert.deepEqual(captures.choose(undefined), { kind: "none" });
    const web = captures.add("web", "/ws/web.pcap", () => undefined);
    assert.deepEqual(captures.choose(undefined), { kind: "stop", one: web });
    const again = captures.add("web", "/ws/web-2.pcap", () => undefined);
    assert.notEqual(web.id, again.id);
    assert.deepEqual(captures.choose(undefined), { kind: "pick", all: [web, again] });
    captures.remove(again);
    assert.deepEqual(captures.choose({ not: "an id" }), { kind: "stop", one: web });
    assert.deepEqual(captures.choose("forward-8080"), { kind: "stop", one: web }); // another kind's id: the palette
  });

  it("finds a capture's terminal by its argv, not by its title", () => {
    const argv = ["/usr/bin/python3", "-P", "-m", "debugbox", "capture", "web", "-o", "/ws/a b.pcap"];
    assert.ok(isCaptureTerminal(argv[0], argv.slice(1), argv));
    const other = [...argv.slice(1, -1), "/ws/other.pcap"];
    assert.ok(!isCaptureTerminal(argv[0], other, argv)); // the same target's other capture
    assert.ok(!isCaptureTerminal("/bin/sh", argv.slice(1), argv));
    assert.ok(!isCaptureTerminal(argv[0], argv.slice(1).join(" "), argv));
    assert.ok(!isCaptureTerminal(argv[0], argv.slice(1), undefined));
    assert.ok(!isCaptureTerminal(argv[0], [], []));
  });
});
