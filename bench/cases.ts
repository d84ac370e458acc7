/**
 * The throughput cases of `npm run bench`: each a named object saying which server it drives with
 * which queries. The peers and lbdns run side by side, and the cases take turns in short rounds.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI } from "../harness/procs.js";
import type { PerfOptions } from "./dnsperf.js";
import { BENCH_ZONE } from "./peers.js";
import { FLIP_POOL_YAML } from "./propagation.js";

export type Server = "raw" | "nsd" | "pdns" | "lbdns";

/** Query files, one per kind of answer measured. */
export type QueryKind = "static" | "nxdomain" | "mx" | "referral" | "wildcard" | "pool";

export interface BenchCase {
  /** The case's key in results and targets. */
  id: string;
  /** What the table prints. */
  name: string;
  server: Server;
  queries: QueryKind;
  options?: PerfOptions;
}

export const CASES: readonly BenchCase[] = [
  { id: "raw", name: "raw Node dgram responder", server: "raw", queries: "static" },
  { id: "nsd-static", name: "NSD static A", server: "nsd", queries: "static" },
  { id: "pdns-static", name: "PowerDNS static A (no cache)", server: "pdns", queries: "static" },
  { id: "pdns-lua", name: "PowerDNS LUA pickwrandom (no cache)", server: "pdns", queries: "pool" },
  {
    id: "pdns-lua-signed",
    name: "PowerDNS LUA, live-signed (DO=1)",
    server: "pdns",
    queries: "pool",
    options: { dnssecOk: true },
  },
  { id: "static", name: "lbdns static A", server: "lbdns", queries: "static" },
  { id: "pool", name: "lbdns pool A (headroom, 8 live)", server: "lbdns", queries: "pool" },
  { id: "mx", name: "lbdns MX pool + relays + glue", server: "lbdns", queries: "mx" },
  { id: "nxdomain", name: "lbdns NXDOMAIN (1000 names)", server: "lbdns", queries: "nxdomain" },
  { id: "wildcard", name: "lbdns wildcard (1000 names)", server: "lbdns", queries: "wildcard" },
  { id: "referral", name: "lbdns referral + glue", server: "lbdns", queries: "referral" },
  {
    id: "signed-static",
    name: "lbdns signed static A (DO=1)",
    server: "lbdns",
    queries: "static",
    options: { dnssecOk: true },
  },
  {
    id: "signed-pool",
    name: "lbdns signed pool A (DO=1, 8 live)",
    server: "lbdns",
    queries: "pool",
    options: { dnssecOk: true },
  },
  {
    id: "signed-nxdomain",
    name: "lbdns signed NXDOMAIN (DO=1, 1000 names)",
    server: "lbdns",
    queries: "nxdomain",
    options: { dnssecOk: true },
  },
  {
    id: "static-tcp",
    name: "lbdns static A over TCP",
    server: "lbdns",
    queries: "static",
    options: { transport: "tcp" },
  },
];

/** Writes the query files into `work` and returns their paths. */
export function queryFiles(work: string): Record<QueryKind, string> {
  const file = (name: string, lines: string[]) => {
    const path = join(work, name);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };
  return {
    static: file("static.txt", ["mx1.example.com A"]),
    nxdomain: file(
      "nxdomain.txt",
      Array.from({ length: 1000 }, (_, i) => `nx${i}.example.com A`),
    ),
    mx: file("mx.txt", ["example.com MX"]),
    referral: file("referral.txt", ["host.sub.example.com A"]),
    wildcard: file(
      "wildcard.txt",
      Array.from({ length: 1000 }, (_, i) => `h${i}.apps.example.com A`),
    ),
    pool: file("pool.txt", ["pool.example.com A"]),
  };
}

/** The 8-member pool: id, address, capacity; loads 0, 10, ... 70 are reported. */
export const BENCH_MEMBERS: [string, string, number][] = Array.from({ length: 8 }, (_, i) => [
  `bench-${i + 1}`,
  `192.0.2.${101 + i}`,
  100 * (1 + (i % 3)),
]);

/** PowerDNS's pickwrandom weights for the same members (their headroom at the reported loads). */
export function pdnsWeights(): [number, string][] {
  return BENCH_MEMBERS.map(([, address, capacity], i): [number, string] => [
    Math.round(capacity * (1 - i / 10)),
    address,
  ]);
}

/**
 * The bench's zones directory: the shared example zone, signed online (`lbdns dnssec enable`:
 * DO=0 queries get the same unsigned answers as without a key, DO=1 the signed ones), and a
 * pools.yaml for the cases.
 */
export function benchZones(work: string): string {
  const dir = join(work, "zones");
  mkdirSync(dir);
  copyFileSync(BENCH_ZONE, join(dir, "example.com.zone"));
  writeFileSync(
    join(dir, "pools.yaml"),
    [
      "pools:",
      "  bench:",
      "    names: [pool.example.com.]",
      "    stale-after: 10m",
      "    members:",
      ...BENCH_MEMBERS.map(
        ([id, address, capacity]) => `      - {id: ${id}, address: ${address}, capacity: ${capacity}}`,
      ),
      ...FLIP_POOL_YAML,
      "  mail:",
      "    type: mx",
      "    names: [example.com.]",
      "    stale-after: 10m",
      "    members:",
      "      - {id: mx-a, host: mx1.example.com., preference: 10}",
      "      - {id: mx-b, host: mx2.example.com., preference: 10}",
      "    relays:",
      "      - {host: relay.example.net., preference: 50}",
      "",
    ].join("\n"),
  );
  execFileSync(process.execPath, [CLI, "dnssec", "enable", "example.com", "--zones", dir], {
    stdio: "ignore",
  });
  return dir;
}
