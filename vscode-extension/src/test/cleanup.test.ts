import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cleanupArgs } from "../common/cleanup";

describe("clean up debug copies", () => {
  it("passes the configured context and namespace", () => {
    assert.deepEqual(cleanupArgs("prod", "shop"), { context: "prod", namespace: "shop" });
    assert.deepEqual(cleanupArgs(" prod ", undefined), { context: "prod" });
  });

  it("leaves unset or blank settings to the server's defaults", () => {
    assert.deepEqual(cleanupArgs("", "  "), {});
    assert.deepEqual(cleanupArgs(undefined, null), {});
    assert.deepEqual(cleanupArgs(3, { ns: "x" }), {});
  });
});
