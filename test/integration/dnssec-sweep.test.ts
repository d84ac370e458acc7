/**
 * Every differential fixture zone (wildcards, DNAME, CNAME chains, empty non-terminals,
 * delegations, odd types), signed online by lbdns and asked about every name for seven types
 * through a validating unbound that holds each zone's DS as a trust anchor: every answer must
 * come back secure (`ad`), positive or negative. The differential run proves the unsigned
 * answers right; this proves their signed forms are what a validator accepts. Names at or below
 * a delegation are left out (their servers are not on loopback), but the DS at each cut is asked.
 */
import { execFile } from "node:child_process";
import { cpSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ROOT } from "../../harness/procs.js";
import { startUnbound, type Unbound } from "../../harness/unbound.js";
import { keyOf, parseName } from "../../src/proto/name.js";
import { loadZoneFile } from "../../src/zone/load.js";
import { namesOf } from "../differential/generate.js";
import { type Running, runCli, startServe } from "../helpers/lbdns.js";
import { tempDir } from "../helpers/zones.js";

const run = promisify(execFile);
const tmp = tempDir("lbdns-sweep-");
const TYPES = ["A", "MX", "TXT", "NS", "DS", "CNAME", "SRV"];
let server: Running;
let unbound: Unbound;
let zones: string[] = [];
const anchors: string[] = [];

beforeAll(async () => {
  cpSync(join(ROOT, "test/fixtures/differential"), tmp.dir, { recursive: true });
  zones = readdirSync(tmp.dir)
    .filter((f) => f.endsWith(".zone"))
    .map((f) => f.slice(0, -".zone".length));
  for (const z of zones) {
    const r = await runCli(["dnssec", "enable", z, "--zones", tmp.dir]);
    if (r.code !== 0) throw new Error(r.stderr);
    anchors.push(
      r.stdout
        .split("\n")
        .find((l) => / IN DS /.test(l))!
        .trim(),
    );
  }
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0", "--admin", "off", "--no-watch"]);
  unbound = await startUnbound({
    dir: tmp.dir,
    stubs: zones.map((z) => ({ name: z, port: server.port })),
    trustAnchors: anchors,
    probe: `${zones[0]}.`,
    cache: true,
  });
}, 60_000);

afterAll(async () => {
  unbound?.stop();
  await server?.stop();
  tmp.cleanup();
});

/** The questions for one zone: every name and type, but nothing a delegation answers. */
function questions(z: string): string[] {
  const origin = `${z}.`;
  const zone = loadZoneFile(join(tmp.dir, `${z}.zone`));
  const below = (name: string): { cut: boolean; at: boolean } => {
    const key = keyOf(parseName(name, null));
    for (
      let k: string | null = key;
      k !== null && k.length >= zone.originKey.length;
      k = k.includes(".") ? k.slice(k.indexOf(".") + 1) : null
    ) {
      const node = zone.nodes.get(k);
      if (node?.cut) return { cut: true, at: node.cut.key === key };
      if (k === zone.originKey) break;
    }
    return { cut: false, at: false };
  };
  const out: string[] = [];
  for (const name of namesOf({ origin, file: join(tmp.dir, `${z}.zone`) })) {
    if (name !== origin && !name.endsWith(`.${origin}`)) continue;
    const b = below(name);
    if (b.cut && !b.at) continue;
    // The DS of an apex is its parent's to answer; only child.parent.test's parent is served.
    const apexDs = name === origin && !zones.includes(origin.slice(origin.indexOf(".") + 1, -1));
    for (const type of b.cut ? ["DS"] : TYPES) if (!(apexDs && type === "DS")) out.push(`${name} ${type}`);
  }
  return out;
}

/** dig over a batch file: each response's status, flags and answer types, by question. */
async function digBatch(port: number, lines: string[], extra: string[]): Promise<Map<string, Response>> {
  const batch = join(tmp.dir, `batch-${port}.txt`);
  writeFileSync(batch, `${lines.join("\n")}\n`);
  const { stdout } = await run(
    "dig",
    [
      "@127.0.0.1",
      "-p",
      String(port),
      "+dnssec",
      "+noall",
      "+comments",
      "+question",
      "+answer",
      "+tries=1",
      "+time=2",
      ...extra,
      "-f",
      batch,
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
  );
  const out = new Map<string, Response>();
  for (const r of stdout.split(";; Got answer:").slice(1)) {
    const q = /^;(\S+)\s+IN\s+(\S+)/m.exec(r);
    if (!q) continue;
    out.set(`${q[1]!.toLowerCase()} ${q[2]}`, {
      status: /status: (\w+)/.exec(r)?.[1] ?? "?",
      flags: (/;; flags: ([a-z ]+);/.exec(r)?.[1] ?? "").split(" "),
      types: [...r.matchAll(/^\S+\s+\d+\s+IN\s+(\S+)/gm)].map((m) => m[1]!),
    });
  }
  return out;
}

interface Response {
  status: string;
  flags: string[];
  types: string[];
}

it("gets a secure answer for every name of every fixture zone signed online, seven types each", async () => {
  const all = zones.flatMap(questions);
  // A CNAME or DNAME may lead out of our zones, where unbound cannot go on loopback: those
  // questions are left out (the signed CNAME and DNAME are proven in dnssec.test.ts).
  const direct = await digBatch(server.port, all, ["+norec"]);
  expect(all.filter((q) => !direct.has(q))).toEqual([]); // lbdns answers every one at once
  const asked = all.filter((q) => !direct.get(q)!.types.some((t) => t === "CNAME" || t === "DNAME"));
  const resolved = await digBatch(unbound.port, asked, []);
  const insecure = asked
    .map((q) => ({ q, r: resolved.get(q) }))
    .filter(
      ({ r }) => r === undefined || !r.flags.includes("ad") || !["NOERROR", "NXDOMAIN"].includes(r.status),
    )
    .map(({ q, r }) => `${q}: ${r ? `${r.status} ${r.flags.join(" ")}` : "no answer"}`);
  const stats = await unbound.stats();
  console.log(
    `dnssec sweep: ${asked.length} of ${all.length} questions asked through unbound (the rest reach a CNAME or DNAME), ${asked.length - insecure.length} secure; unbound counted ${stats["num.answer.bogus"]} bogus answers`,
  );
  expect(asked.length).toBeGreaterThan(1_000);
  expect(insecure.slice(0, 40), unbound.log().slice(-2_000)).toEqual([]);
  expect(stats["num.answer.bogus"]).toBe(0);
}, 300_000);
