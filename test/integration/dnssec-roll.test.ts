/**
 * A CSK rollover end to end (issue 20): `lbdns dnssec roll` three times on a child zone whose DS
 * is in its (also signed) parent, while a caching, validating unbound keeps resolving names in
 * it. TTLs are 2 s so each step's wait is real but short; no step is forced. Every answer unbound
 * gives during the rollover must be secure: a wrong order (signing before the key is known, or
 * removing the old key while the old DS may still be cached) would show as SERVFAIL.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startUnbound, type Unbound } from "../../harness/unbound.js";
import { dig } from "../helpers/dig.js";
import { type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const tmp = tempDir("lbdns-roll-");
let server: Running;
let unbound: Unbound;

const PARENT = `$ORIGIN roll.test.
$TTL 2
@      SOA ns1 hostmaster 1 7200 3600 1209600 2
       NS  ns1
ns1    A   127.0.0.1
child  NS  ns1.child
ns1.child A 127.0.0.1
`;
const CHILD = `$ORIGIN child.roll.test.
$TTL 2
@    SOA ns1 hostmaster 1 7200 3600 1209600 2
     NS  ns1
ns1  A   127.0.0.1
www  A   192.0.2.7
`;

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli([...args, "--zones", tmp.dir]);
  return { code: r.code, out: r.stdout + r.stderr };
}

function dsOf(out: string): string {
  return out
    .split("\n")
    .find((l) => / IN DS /.test(l))!
    .trim();
}

/** Puts `ds` (the child's DS line) into the parent's zone file in place of any other, atomically. */
function setParentDs(ds: string): void {
  const file = join(tmp.dir, "roll.test.zone");
  const kept = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !/ IN DS /.test(l) && l !== "");
  const serial = Number(/SOA ns1 hostmaster (\d+)/.exec(kept.join("\n"))![1]) + 1;
  const text = `${kept.join("\n").replace(/hostmaster \d+/, `hostmaster ${serial}`)}\n${ds.replace(/^\S+ \d+/, "child 2")}\n`;
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function dnskeyTags(): Promise<string[]> {
  const r = await dig(server.port, ["+norec", "child.roll.test", "DNSKEY"]);
  return r.answer.map((a) => a.data).sort();
}

beforeAll(async () => {
  tmp.write("roll.test.zone", PARENT);
  tmp.write("child.roll.test.zone", CHILD);
  setParentDs(dsOf((await cli(["dnssec", "enable", "child.roll.test", "--dnskey-ttl", "2"])).out));
  const anchor = dsOf((await cli(["dnssec", "enable", "roll.test", "--dnskey-ttl", "2"])).out);
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
  unbound = await startUnbound({
    dir: tmp.dir,
    stubs: [{ name: "roll.test", port: server.port }],
    trustAnchors: [anchor],
    probe: "roll.test",
    cache: true,
  });
}, 60_000);

afterAll(async () => {
  unbound?.stop();
  await server?.stop();
  tmp.cleanup();
});

it("rolls the child's key with unbound following, no validation failure at any step", async () => {
  const failures: string[] = [];
  let answers = 0;
  let stop = false;
  const resolving = (async () => {
    for (let i = 0; i < 2_000 && !stop; i++) {
      const r = await dig(unbound.port, ["+dnssec", "www.child.roll.test", "A"]);
      answers++;
      if (r.status !== "NOERROR" || !r.flags.includes("ad"))
        failures.push(`${r.status} ${r.flags.join(" ")}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  const before = await dnskeyTags();
  expect(before).toHaveLength(1);

  // Step 1: the new key is published beside the old one.
  expect((await cli(["dnssec", "roll", "child.roll.test"])).out).toMatch(/step 1 of 3/);
  await waitFor(async () => (await dnskeyTags()).length === 2, 10_000, "two DNSKEYs");
  // Too early for step 2: the DNSKEY TTL has not passed since step 1... unless it has already.
  const early = await cli(["dnssec", "roll", "child.roll.test"]);
  let switched = early;
  if (early.code !== 0) {
    expect(early.code).toBe(1);
    expect(early.out).toMatch(/wait until .* or pass --force/);
    await new Promise((res) => setTimeout(res, 2_500));
    switched = await cli(["dnssec", "roll", "child.roll.test"]);
  }
  // Step 2: the new key signs; the parent gets its DS.
  expect(switched.out).toMatch(/step 2 of 3/);
  setParentDs(dsOf(switched.out));
  await new Promise((res) => setTimeout(res, 3_000)); // the old DS's 2 s TTL, and a reload
  // Step 3: the old key goes.
  const retired = await cli(["dnssec", "roll", "child.roll.test", "--ds-ttl", "2"]);
  expect(retired.out).toMatch(/step 3 of 3/);
  await waitFor(async () => (await dnskeyTags()).length === 1, 10_000, "one DNSKEY");
  expect(await dnskeyTags()).not.toEqual(before);
  await new Promise((res) => setTimeout(res, 3_000)); // resolve past the old key's last TTL
  stop = true;
  await resolving;
  expect(answers).toBeGreaterThan(20);
  expect(failures, unbound.log().slice(-1500)).toEqual([]);
  expect((await unbound.stats())["num.answer.bogus"], "bogus answers counted by unbound").toBe(0);
}, 90_000);

it("goes back to unsigned in two steps: CDS/CDNSKEY DELETE first, then no signatures", async () => {
  const first = await cli(["dnssec", "disable", "child.roll.test"]);
  expect(first.out).toMatch(/step 1 of 2/);
  await waitFor(
    async () => (await dig(server.port, ["+norec", "child.roll.test", "CDS"])).answer[0]?.data === "0 0 0 00",
    10_000,
    "CDS DELETE",
  );
  expect((await dig(server.port, ["+norec", "child.roll.test", "CDNSKEY"])).answer[0]?.data).toBe(
    "0 3 0 AA==",
  );
  // Still signed meanwhile: the DS at the parent is still there.
  expect((await dig(unbound.port, ["+dnssec", "www.child.roll.test", "A"])).flags).toContain("ad");
  const early = await cli(["dnssec", "disable", "child.roll.test"]);
  expect(early.code).toBe(1);
  expect(early.out).toMatch(/resolvers may still hold the DS/);
  const done = await cli(["dnssec", "disable", "child.roll.test", "--force"]);
  expect(done.out).toMatch(/step 2 of 2/);
  await waitFor(async () => (await dnskeyTags()).length === 0, 10_000, "no DNSKEY");
  const plain = await dig(server.port, ["+dnssec", "+norec", "www.child.roll.test", "A"]);
  expect(plain.answer.map((a) => a.type)).toEqual(["A"]);
  expect((await cli(["dnssec", "status", "child.roll.test"])).code).toBe(2);
}, 60_000);
