import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTargetList, sortTargets, strategyItems, targetItems } from "../common/targets";

const wire = {
  targets: [
    { id: "docker://aaa", runtime: "docker", name: "db", image: "postgres:16", status: "running", related: false, related_reason: null, strategies: ["exec", "sidecar"], recommended: "exec" },
    { id: "docker://bbb", runtime: "docker", name: "api", image: "gcr.io/distroless/static", status: "running", related: true, related_reason: "built from this Dockerfile (compose service api)", strategies: ["sidecar"], recommended: "sidecar" },
    { runtime: "docker", name: "no-id" },
    "garbage",
  ],
  problems: [{ runtime: "podman", message: "socket not answering" }],
};

describe("listTargets result", () => {
  it("parses defensively and keeps the server's fields", () => {
    const list = parseTargetList(wire);
    assert.equal(list.targets.length, 2);
    assert.deepEqual(list.problems, ["podman: socket not answering"]);
    assert.equal(list.targets[1].relatedReason, "built from this Dockerfile (compose service api)");
    assert.deepEqual(parseTargetList(null), { targets: [], problems: [] });
  });

  it("puts related targets first and shows runtime, image, status and the recommended strategy", () => {
    const items = targetItems(parseTargetList(wire).targets);
    assert.deepEqual(
      items.map((i) => i.value.id),
      ["docker://bbb", "docker://aaa"],
    );
    assert.match(items[0].label, /api$/);
    assert.equal(items[0].description, "docker · gcr.io/distroless/static");
    assert.match(items[0].detail!, /running · recommended: sidecar · related \(built from this Dockerfile/);
    assert.equal(sortTargets([]).length, 0);
  });

  it("says which ways into a pod are closed and why (the preflight's `ways`)", () => {
    const ways = [
      { strategy: "exec", open: false, whyNot: "gcr.io/distroless/static is not known to have a shell" },
      { strategy: "ephemeral", open: false, whyNot: "RBAC does not allow you to patch pods/ephemeralcontainers in namespace shop" },
      { strategy: "copy", open: true },
      "garbage",
    ];
    const t = parseTargetList({ targets: [{ id: "k8s://c/shop/web/app", status: "running", strategies: ["copy"], ways }] }).targets[0];
    assert.deepEqual(t.closed, [
      "exec: gcr.io/distroless/static is not known to have a shell",
      "ephemeral: RBAC does not allow you to patch pods/ephemeralcontainers in namespace shop",
    ]);
    assert.match(targetItems([t])[0].detail!, /closed: exec: .*; ephemeral: RBAC does not allow you to patch/);
  });

  it("offers the recommended strategy first, then the others", () => {
    const t = parseTargetList({ targets: [{ id: "x", strategies: ["exec", "docker-debug", "sidecar"], recommended: "sidecar" }] }).targets[0];
    const items = strategyItems(t);
    assert.deepEqual(items.map((i) => i.value), ["sidecar", "exec", "docker-debug"]);
    assert.equal(items[0].description, "recommended");
    assert.equal(items[1].description, undefined);
  });
});
