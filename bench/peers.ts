/**
 * The peers lbdns is measured against: NSD (the static ceiling; harness/peers.ts) and PowerDNS
 * Authoritative with the bind backend and LUA records (the closest dynamic peer, every cache off).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ensureInstalled,
  type Peer,
  spawnLogged,
  startNsd as startNsdZones,
  untilServing,
} from "../harness/peers.js";
import { ROOT } from "../harness/procs.js";

/** Binary -> the Debian packages that provide it: the load generator and the peers. */
const PACKAGES: Record<string, string[]> = {
  dnsperf: ["dnsperf"],
  nsd: ["nsd"],
  pdns_server: ["pdns-server", "pdns-backend-bind"],
  pdnsutil: ["pdns-server"],
};

/** Installs dnsperf and the peers from Debian when missing (as root); names what is missing otherwise. */
export function ensureBenchTools(): void {
  ensureInstalled(PACKAGES, ["nsd", "pdns"]);
}

/** NSD serving the bench zone as example.com. */
export function startNsd(work: string, port: number, zoneFile: string, cpus?: string): Promise<Peer> {
  return startNsdZones(work, port, [{ origin: "example.com.", file: zoneFile }], cpus);
}

/**
 * PowerDNS Authoritative with the bind backend: the zone plus `pool` as a LUA record that picks
 * one of the bench pool's 8 addresses by weight (pickwrandom), and every cache off, so each
 * query runs the LUA record as a dynamic answer would. The zone is signed (pdnsutil secure-zone,
 * an ECDSA P-256 CSK with keys in the bind backend's SQLite database), so a DO=1 query gets its
 * LUA answer signed live, and a DO=0 query the same answer as unsigned.
 */
export async function startPdns(
  work: string,
  port: number,
  zoneFile: string,
  weighted: [number, string][],
  cpus?: string,
): Promise<Peer> {
  const dir = join(work, "pdns");
  mkdirSync(dir, { recursive: true });
  const list = weighted.map(([w, a]) => `{${w},'${a}'}`).join(",");
  writeFileSync(
    join(dir, "example.com.zone"),
    `${readFileSync(zoneFile, "utf8")}\npool 60 IN LUA A "pickwrandom({${list}})"\n`,
  );
  writeFileSync(
    join(dir, "named.conf"),
    `zone "example.com" { type master; file "${dir}/example.com.zone"; };\n`,
  );
  const db = join(dir, "dnssec.db");
  writeFileSync(join(dir, "pdns.conf"), `launch=bind\nbind-config=${dir}/named.conf\nbind-dnssec-db=${db}\n`);
  execFileSync("pdnsutil", [`--config-dir=${dir}`, "create-bind-db", db], { stdio: "ignore" });
  execFileSync("pdnsutil", [`--config-dir=${dir}`, "secure-zone", "example.com"], { stdio: "ignore" });
  const { proc, log } = spawnLogged(
    "pdns_server",
    [
      `--config-dir=${dir}`,
      `--socket-dir=${dir}`,
      "--local-address=127.0.0.1",
      `--local-port=${port}`,
      "--enable-lua-records=yes",
      "--cache-ttl=0",
      "--query-cache-ttl=0",
      "--negquery-cache-ttl=0",
      "--daemon=no",
      "--guardian=no",
      "--setuid=",
      "--setgid=",
      "--disable-syslog",
      "--loglevel=3",
      "--receiver-threads=1",
      "--distributor-threads=1",
    ],
    cpus,
  );
  await untilServing(port, ["example.com."], proc, log);
  return { name: "pdns", proc, port };
}

export const BENCH_ZONE = join(ROOT, "zones/example.com.zone");
