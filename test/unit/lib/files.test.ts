import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LockError, withLock, writeAtomic } from "../../../src/lib/files.js";
import { tempDir } from "../../helpers/zones.js";

let tmp: ReturnType<typeof tempDir>;
afterEach(() => tmp?.cleanup());

describe("locking and atomic writes", () => {
  it("serialises holders and releases the lock", async () => {
    tmp = tempDir();
    const order: string[] = [];
    await Promise.all([
      withLock(tmp.dir, async () => {
        order.push("a-in");
        await new Promise((r) => setTimeout(r, 100));
        order.push("a-out");
      }),
      new Promise((r) => setTimeout(r, 10)).then(() => withLock(tmp.dir, () => order.push("b"))),
    ]);
    expect(order).toEqual(["a-in", "a-out", "b"]);
    expect(existsSync(join(tmp.dir, ".lbdns.lock"))).toBe(false);
  });

  it("clears a lock whose process died, and an old one that never got a pid", async () => {
    tmp = tempDir();
    const lock = join(tmp.dir, ".lbdns.lock");
    writeFileSync(lock, "999999999");
    expect(await withLock(tmp.dir, () => "got it")).toBe("got it");
    writeFileSync(lock, "");
    const old = (Date.now() - 10_000) / 1000;
    utimesSync(lock, old, old);
    expect(await withLock(tmp.dir, () => "again")).toBe("again");
  });

  it("gives up on a live holder after the timeout", async () => {
    tmp = tempDir();
    writeFileSync(join(tmp.dir, ".lbdns.lock"), String(process.pid));
    await expect(withLock(tmp.dir, () => 1, 200)).rejects.toThrow(LockError);
  });

  it("replaces a file whole and keeps its mode", () => {
    tmp = tempDir();
    const path = tmp.write("x.zone", "old\n");
    writeAtomic(path, "new\n");
    expect(readFileSync(path, "utf8")).toBe("new\n");
  });
});
