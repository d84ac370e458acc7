import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
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
    writeFileSync(join(tmp.dir, ".lbdns.lock"), `${process.pid} live\n`);
    await expect(withLock(tmp.dir, () => 1, 200)).rejects.toThrow(LockError);
  });

  it("replaces a file whole and keeps its mode", () => {
    tmp = tempDir();
    const path = tmp.write("x.zone", "old\n");
    writeAtomic(path, "new\n");
    expect(readFileSync(path, "utf8")).toBe("new\n");
  });

  it("does not release a lock another command holds now (issue 18 #4)", async () => {
    tmp = tempDir();
    const lock = join(tmp.dir, ".lbdns.lock");
    await withLock(tmp.dir, () => {
      // Someone judged ours stale and took it over: our release must leave theirs alone.
      writeFileSync(lock, `${process.pid} someone-else\n`);
    });
    expect(readFileSync(lock, "utf8")).toBe(`${process.pid} someone-else\n`);
  });

  it("lets only one of many waiters take over a stale lock", async () => {
    tmp = tempDir();
    writeFileSync(join(tmp.dir, ".lbdns.lock"), "999999999 dead\n");
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withLock(tmp.dir, async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });

  it("never follows a planted symlink at the temp name, and edits a symlinked file's target (#15)", () => {
    tmp = tempDir();
    const victim = tmp.write("victim", "precious\n");
    const real = tmp.write("real.zone", "old\n");
    const link = join(tmp.dir, "x.zone");
    symlinkSync(real, link);
    // The old predictable names, planted: none is used.
    symlinkSync(victim, join(tmp.dir, `.x.zone.tmp-${process.pid}`));
    symlinkSync(victim, join(tmp.dir, `.real.zone.tmp-${process.pid}`));
    writeAtomic(link, "new\n");
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe("new\n");
    symlinkSync(join(tmp.dir, "missing"), join(tmp.dir, "dangling.zone"));
    expect(() => writeAtomic(join(tmp.dir, "dangling.zone"), "x")).toThrow(/symbolic link to a missing file/);
  });
});
