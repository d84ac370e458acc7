/**
 * Zone scale: the resident memory of `lbdns serve` holding a 100,000-record zone set, and how
 * long a 1,000,000-record zone set takes to load. Both are real `lbdns serve` processes reading
 * generated master files; load time is start-to-serving minus the same for a one-record zone, so
 * Node's own start-up is not counted.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startLbdns } from "../harness/lbdns.js";
import { CLI, freePort, kill } from "../harness/procs.js";
import { dnsperf } from "./dnsperf.js";

export interface ZoneScale {
  records: number;
  zones: number;
  rssMb: number;
  loadMs: number;
}

/** Writes `records` records spread over `zones` zones, a realistic mix of types; returns the count. */
async function writeZoneSet(dir: string, records: number, zones: number): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const perZone = Math.ceil(records / zones);
  for (let z = 0; z < zones; z++) {
    const origin = `zone${z}.example.`;
    const out = createWriteStream(join(dir, `${origin}zone`));
    const write = (s: string) =>
      out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r()));
    await write(
      `$ORIGIN ${origin}\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n`,
    );
    let chunk = "";
    for (let i = 3; i < perZone; i++) {
      const kind = i % 10;
      const b = (i >> 8) & 255;
      const c = i & 255;
      if (kind < 6) chunk += `h${i} IN A 10.${z & 255}.${b}.${c}\n`;
      else if (kind < 8)
        chunk += `h${i} IN AAAA 2001:db8:${z.toString(16)}:${(i >> 16).toString(16)}::${(i & 0xffff).toString(16)}\n`;
      else if (kind === 8) chunk += `alias${i} IN CNAME h${i - 1}\n`;
      else chunk += `h${i} IN TXT "record ${i} of ${origin}"\n`;
      if (chunk.length > 64 * 1024) {
        await write(chunk);
        chunk = "";
      }
    }
    await write(chunk);
    await new Promise<void>((r) => out.end(() => r()));
  }
  return perZone * zones;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/**
 * Start-to-serving time and RSS of `lbdns serve` over `dir`, which must load all `records`:
 * a zone rejected for a bad record would make the figures look better than they are.
 */
async function serveOnce(dir: string, records: number): Promise<{ ms: number; rss: number }> {
  const start = performance.now();
  let loaded = -1;
  const onLine = (line: string) => {
    if (line.includes('"msg":"zones loaded"')) loaded = (JSON.parse(line) as { records: number }).records;
  };
  const listen = `127.0.0.1:${await freePort()}`;
  const proc = await startLbdns(["--zones", dir, "--listen", listen], 300_000, undefined, onLine);
  const ms = performance.now() - start;
  if (loaded !== records) {
    await kill(proc);
    throw new Error(`lbdns loaded ${loaded} of the ${records} records in ${dir}`);
  }
  // Let the heap settle after the load's garbage before reading RSS.
  await new Promise((r) => setTimeout(r, 2_000));
  const rss = rssMb(proc.pid!);
  await kill(proc);
  return { ms, rss };
}

export interface SignedScale {
  records: number;
  /** RSS once every name has been asked for without DO (each unsigned answer built and kept). */
  askedRssMb: number;
  /** RSS once every name has been asked for with DO=1 as well (each answer signed and kept). */
  rssMb: number;
  /** Signed answers kept, as lbdns counts them. */
  signatures: number;
  /** Seconds the first pass over every name took (signing them all). */
  firstPassS: number;
}

/**
 * RSS with online signing: the same generated zone set, each zone signed (`lbdns dnssec enable`),
 * after dnsperf has asked for every name once without DO (every unsigned answer built and kept,
 * the fair baseline), then once with DO=1 (every answer signed and kept).
 */
export async function measureSignedScale(work: string, records: number, zones: number): Promise<SignedScale> {
  const dir = join(work, `signed-${records}`);
  const written = await writeZoneSet(dir, records, zones);
  const names: string[] = [];
  for (let z = 0; z < zones; z++) {
    execFileSync(process.execPath, [CLI, "dnssec", "enable", `zone${z}.example`, "--zones", dir], {
      stdio: "ignore",
    });
    for (let i = 3; i < Math.ceil(records / zones); i++)
      names.push(`${i % 10 === 8 ? "alias" : "h"}${i}.zone${z}.example A`);
  }
  const queries = join(work, "signed-names.txt");
  writeFileSync(queries, `${names.join("\n")}\n`);
  const port = await freePort();
  const proc = await startLbdns(["--zones", dir, "--listen", `127.0.0.1:${port}`], 300_000);
  try {
    dnsperf(port, queries, { passes: 1 });
    await new Promise((r) => setTimeout(r, 2_000));
    const askedRssMb = rssMb(proc.pid!);
    const start = performance.now();
    dnsperf(port, queries, { passes: 1, dnssecOk: true });
    const firstPassS = (performance.now() - start) / 1000;
    await new Promise((r) => setTimeout(r, 2_000));
    return { records: written, askedRssMb, rssMb: rssMb(proc.pid!), signatures: names.length, firstPassS };
  } finally {
    await kill(proc);
  }
}

/** One result per record count; the one-record baseline start-up is measured once for all. */
export async function measureZoneScale(work: string, counts: number[], zones: number): Promise<ZoneScale[]> {
  const base = join(work, "scale-base");
  const empty = await serveOnce(base, await writeZoneSet(base, 4, 1));
  const out: ZoneScale[] = [];
  for (const records of counts) {
    const dir = join(work, `scale-${records}`);
    const full = await serveOnce(dir, await writeZoneSet(dir, records, zones));
    out.push({ records, zones, rssMb: full.rss, loadMs: Math.max(0, full.ms - empty.ms) });
  }
  return out;
}
