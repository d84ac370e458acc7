import { describe, expect, it } from "vitest";
import { parseName } from "../../../src/proto/name.js";
import { addRecord, EditError, nextSerial, removeRecords, verifyEdit } from "../../../src/zone/edit.js";
import { parseMasterFile } from "../../../src/zone/masterfile.js";

const origin = parseName("example.com.", null);
const editable = (text: string) => ({
  file: "/v/example.com.zone",
  text,
  origin,
  records: parseMasterFile(text, "/v/example.com.zone", origin, () => ""),
});
const BASE = `$TTL 300
@ IN SOA ns1 host 2026010101 2 3 4 60 ; serial here
  IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
    IN AAAA 2001:db8::10   ; same owner, continued
    IN TXT "web"
`;

describe("zone editing", () => {
  it("serials follow YYYYMMDDnn and never decrease", () => {
    const day = new Date("2026-11-24T12:00:00Z");
    expect(nextSerial(2026010101, day)).toBe(2026112400);
    expect(nextSerial(2026112400, day)).toBe(2026112401);
    expect(nextSerial(2030010100, day)).toBe(2030010101);
  });

  it("adds a line with an absolute owner and the RRset's TTL", () => {
    const added = addRecord(editable(BASE), "www", "A", "192.0.2.11");
    expect(added.line).toBe("www.example.com.\t300\tIN\tA\t192.0.2.11");
    expect(added.text.startsWith(BASE)).toBe(true);
    expect(() => addRecord(editable(BASE), "www", "A", "192.0.2.11", 60)).toThrow(/an RRset shares one TTL/);
    expect(() => addRecord(editable(BASE), "www", "A", "192.0.2.10")).toThrow(/already exists/);
    expect(() => addRecord(editable(BASE), "www.example.org.", "A", "192.0.2.1")).toThrow(
      /is not inside example.com./,
    );
    expect(() => addRecord(editable(BASE), "x", "BOGUS", "1")).toThrow(EditError);
  });

  it("writes the owner into the next line when the line that carried it goes", () => {
    const z = editable(BASE);
    const removed = removeRecords(z, "www", "A");
    expect(removed.text).toContain("www.example.com.    IN AAAA 2001:db8::10   ; same owner, continued");
    expect(removed.text).toContain('\n    IN TXT "web"');
    expect(() => verifyEdit(z.file, removed.text, z.records, [], removed.removed)).not.toThrow();
  });

  it("refuses an edit that would silently change other records", () => {
    const text = "@ IN SOA ns1 host 1 2 3 4 60\n@ 100 IN NS ns1\nns1 A 192.0.2.1\nx A 192.0.2.2\n";
    const z = editable(text);
    const removed = removeRecords(z, "x"); // the last line: nothing inherits from it
    expect(() => verifyEdit(z.file, removed.text, z.records, [], removed.removed)).not.toThrow();
    // ns1 has no TTL and no $TTL applies: it inherits 200 from the line before it.
    const inherits = editable(
      "@ IN SOA ns1 host 1 2 3 4 60\n@ 100 IN NS ns1\nx 200 A 192.0.2.2\nns1 A 192.0.2.1\n",
    );
    const r2 = removeRecords(inherits, "x");
    expect(() => verifyEdit(inherits.file, r2.text, inherits.records, [], r2.removed)).toThrow(
      /would also change ns1.example.com/,
    );
  });
});
