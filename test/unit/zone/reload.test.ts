/**
 * A reload's report: every zone is accounted for (added, changed, rebuilt, kept, removed or
 * reused untouched), and a broken file keeps the last good zone (docs/zones.md).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildZoneSet, rebuildZoneSet } from "../../../src/zone/reload.js";
import { apex, tempDir } from "../../helpers/zones.js";

const pause = () => Promise.resolve();
const zone = (origin: string, serial: number, extra = "") =>
  apex(origin).replace(" 1 7200 ", ` ${serial} 7200 `) + extra;

describe("zone reload report", () => {
  it("names what was added, changed, rebuilt with the same serial, kept, removed and reused", async () => {
    const tmp = tempDir();
    try {
      for (const o of ["a", "b", "c", "d", "e"]) tmp.write(`${o}.test.zone`, zone(`${o}.test.`, 1));
      const first = buildZoneSet(tmp.dir, null);
      expect(first.report.added.sort()).toEqual(["a.test.", "b.test.", "c.test.", "d.test.", "e.test."]);

      tmp.write("b.test.zone", zone("b.test.", 2)); // serial bumped
      tmp.write("c.test.zone", zone("c.test.", 1, "www A 192.0.2.1\n")); // edited, serial not bumped
      tmp.write("d.test.zone", `${zone("d.test.", 3)}broken (\n`); // cut in the middle of a record
      rmSync(join(tmp.dir, "e.test.zone"));
      tmp.write("f.test.zone", zone("f.test.", 1));
      const { zones, report } = await rebuildZoneSet(tmp.dir, first.zones, pause);

      expect(report.added).toEqual(["f.test."]);
      expect(report.changed).toEqual([{ zone: "b.test.", from: 1, to: 2 }]);
      expect(report.rebuilt).toEqual(["c.test."]);
      expect(report.kept).toEqual(["d.test."]);
      expect(report.errors.map((e) => e.file)).toEqual([join(tmp.dir, "d.test.zone")]);
      expect(report.removed).toEqual(["e.test."]);
      expect(report.reused).toBe(1); // a.test, not read again
      expect(zones.zones.get("a.test")).toBe(first.zones.zones.get("a.test"));
      // The last good d.test is still served, serial 1.
      expect(zones.zones.get("d.test")!.serial).toBe(1);
      expect(zones.zones.get("c.test")!.serial).toBe(1);
    } finally {
      tmp.cleanup();
    }
  });
});
