import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forwardEndedMessage, forwardItem, forwardUpMessage, RunningForwards } from "../common/forwards";

describe("running forwards", () => {
  it("a status bar item stops its own forward; the palette the only one, or asks", () => {
    const stopped: number[] = [];
    const forwards = new RunningForwards();
    assert.deepEqual(forwards.choose(undefined), { kind: "none" });
    const web = forwards.add(8081, "http://localhost:8081", "web", 8080, () => stopped.push(8081));
    assert.deepEqual(forwards.choose(undefined), { kind: "stop", one: web });
    const db = forwards.add(5433, "http://localhost:5433", "db", 5432, () => stopped.push(5433));
    assert.deepEqual(forwards.choose(undefined), { kind: "pick", all: [db, web] });
    const mine = forwards.choose(web.id);
    assert.ok(mine.kind === "stop" && mine.one === web);
    web.stop();
    assert.deepEqual(stopped, [8081]);
    forwards.remove(web);
    assert.deepEqual(forwards.choose(web.id), { kind: "none" }); // a stale item stops nothing else
    // A new forward on the same local port is not forgotten when the old one's terminal ends late.
    const again = forwards.add(5433, "http://localhost:5433", "db", 5432, () => undefined);
    forwards.remove(db);
    assert.deepEqual(forwards.list(), [again]);
  });

  it("says what is forwarded where, once it is up", () => {
    const f = { local: 8081, name: "web", port: 8080, url: "http://localhost:8081" };
    assert.equal(forwardItem(f).text, "$(plug) 8081 → web:8080");
    assert.match(forwardItem(f).tooltip, /http:\/\/localhost:8081 to web:8080/);
    assert.equal(
      forwardUpMessage(f.url, "web", 8080),
      "debugbox: forwarding http://localhost:8081 → web:8080 (its status bar item or closing its terminal stops it).",
    );
    assert.match(forwardEndedMessage(8081, "web", 8080), /ended before it listened/);
  });
});
