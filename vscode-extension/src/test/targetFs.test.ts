import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeTarget,
  encodeTarget,
  errorKind,
  FileChange,
  FileKind,
  joinPath,
  parentPath,
  shownLabel,
  shownText,
  targetPathOf,
  targetUriParts,
  toBytes,
  toListing,
  toStat,
  uploadChanges,
} from "../common/targetFs";

describe("debugbox-target URIs", () => {
  it("carry any target id in a hex authority, and back", () => {
    for (const id of ["docker://web", "podman://a b/ü", "3f2a9c"]) {
      assert.equal(decodeTarget(encodeTarget(id)), id);
      assert.match(encodeTarget(id), /^[0-9a-f]+$/);
    }
    assert.equal(decodeTarget(""), undefined);
    assert.equal(decodeTarget("xyz"), undefined);
    assert.equal(decodeTarget("abc"), undefined); // odd length
    assert.deepEqual(targetUriParts("docker://w", "etc/hosts"), {
      scheme: "debugbox-target",
      authority: encodeTarget("docker://w"),
      path: "/etc/hosts",
      query: "",
    });
  });

  it("walks paths in the target", () => {
    assert.equal(parentPath("/a/b c"), "/a");
    assert.equal(parentPath("/a"), "/");
    assert.equal(parentPath("/a/b/"), "/a");
    assert.equal(joinPath("/", "etc"), "/etc");
    assert.equal(joinPath("/etc", "ü x"), "/etc/ü x");
  });
});

describe("names with control characters (a hostile image's files)", () => {
  it("are shown escaped, on one line, never as icons", () => {
    assert.equal(shownText("a\nb"), "a\\x0ab");
    assert.equal(shownText("e\x1b[2Jx\t\x7f\u0085"), "e\\x1b[2Jx\\x09\\x7f\\x85");
    assert.equal(shownText("evil\u202egnp.exe"), "evil\\u202egnp.exe");
    assert.equal(shownText("lone \ud800 pair \ud83d\ude00"), "lone \\ud800 pair \ud83d\ude00");
    assert.equal(shownText("ü x.txt"), "ü x.txt");
    assert.equal(shownLabel("$(check) done"), "\\$(check) done");
  });

  it("open by their exact path: the URI shows the escaped path and carries the exact one", () => {
    for (const p of ["/odd/a\nb", "/odd/e\x1b[2Jx", "/t\tu\x7f/x", "/lone\udcff", "/q?p=%41#x\n"]) {
      const parts = targetUriParts("docker://w", p);
      assert.equal(targetPathOf(parts), p);
      assert.doesNotMatch(parts.path, /[\x00-\x1f\x7f]/);
      assert.match(parts.query, /^path=([0-9a-f]{4})+$/);
    }
    const plain = targetUriParts("docker://w", "/www/ü x.html");
    assert.deepEqual([plain.path, plain.query], ["/www/ü x.html", ""]);
    assert.equal(targetPathOf(plain), "/www/ü x.html");
    // A real file named like an escaped one is another file (no query: its path is its name).
    assert.equal(targetPathOf(targetUriParts("docker://w", "/odd/a\\x0ab")), "/odd/a\\x0ab");
    assert.equal(targetPathOf({ path: "/x", query: "path=zz" }), "/x");
  });
});

describe("after an upload", () => {
  it("reports the file (changed when replaced, else created) and its folder, as the view names them", () => {
    const file = targetUriParts("docker://w", "/www/up ü.bin");
    const folder = targetUriParts("docker://w", "/www");
    assert.deepEqual(uploadChanges("docker://w", "/www/up ü.bin", true), [
      { type: FileChange.Changed, uri: file },
      { type: FileChange.Changed, uri: folder },
    ]);
    assert.deepEqual(uploadChanges("docker://w", "/www/up ü.bin", false), [
      { type: FileChange.Created, uri: file },
      { type: FileChange.Changed, uri: folder },
    ]);
    assert.deepEqual(uploadChanges("docker://w", "/top", false)[1].uri, targetUriParts("docker://w", "/"));
  });
});

describe("server answers", () => {
  it("maps a stat, links by what they point to, always read-only", () => {
    assert.deepEqual(toStat({ type: "file", size: 10, mtime: 1.5 }), { type: FileKind.File, ctime: 1500, mtime: 1500, size: 10, permissions: 1 });
    assert.equal(toStat({ type: "symlink", resolvedType: "directory" })!.type, FileKind.SymbolicLink | FileKind.Directory);
    assert.equal(toStat({ type: "other" })!.type, FileKind.Unknown);
    assert.equal(toStat({ size: 1 }), undefined);
  });

  it("lists folders first and drops names that are not plain names", () => {
    const listing = toListing({
      entries: [
        { name: "b.txt", type: "file" },
        { name: "etc", type: "directory" },
        { name: "../escape", type: "file" },
        { name: "..", type: "directory" },
        { name: "link", type: "symlink" },
        { type: "file" },
        "junk",
      ],
      truncated: true,
    });
    assert.deepEqual(listing.entries, [
      ["etc", FileKind.Directory],
      ["b.txt", FileKind.File],
      ["link", FileKind.SymbolicLink],
    ]);
    assert.equal(listing.truncated, true);
    assert.deepEqual(toListing(null), { entries: [], truncated: false });
  });

  it("decodes file bytes exactly", () => {
    const bytes = new Uint8Array([0, 255, 13, 10, 0xc3, 0xbc]);
    assert.deepEqual(toBytes({ data: Buffer.from(bytes).toString("base64"), size: 6 }), bytes);
    assert.equal(toBytes({ data: 1 }), undefined);
  });

  it("turns the server's refusals into file-system errors", () => {
    assert.equal(errorKind("debugbox.readTargetFile: /x does not exist in the target"), "FileNotFound");
    assert.equal(errorKind("/www is a directory in the target"), "FileIsADirectory");
    assert.equal(errorKind("/httpd is not a directory in the target"), "FileNotADirectory");
    assert.equal(errorKind("the engine did not answer"), "Unavailable");
  });
});
