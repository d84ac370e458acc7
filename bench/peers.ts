/**
 * The peers lbdns is measured against, started for real on loopback from their Debian packages:
 * NSD (the static ceiling, RRL off, one server process) and PowerDNS Authoritative with the
 * bind backend and LUA records (the closest dynamic peer, every cache off). Each gets its own
 * work directory, so nothing under /etc is touched and no daemon outlives the bench.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pinned, ROOT } from "../harness/procs.js";

export interface Peer {
  name: string;
  proc: ChildProcess;
}

/** Binary -> the Debian packages that provide it: the load generator and the peers. */
const PACKAGES: Record<string, string[]> = {
  dnsperf: ["dnsperf"],
  nsd: ["nsd"],
  pdns_server: ["pdns-server", "pdns-backend-bind"],
};

function installed(bin: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Installs dnsperf and the peers from Debian when missing (as root); names what is missing otherwise. */
export function ensureBenchTools(): void {
  const need = Object.entries(PACKAGES)
    .filter(([bin]) => !installed(bin))
    .flatMap(([, pkgs]) => pkgs);
  if (need.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the bench needs: apt-get install -y ${need.join(" ")}`);
  }
  console.error(`installing ${need.join(" ")} (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...need], { stdio: "inherit", env });
  // Debian starts the packaged daemons on install where systemd runs; the bench starts its own.
  for (const svc of ["nsd", "pdns"]) {
    try {
      execFileSync("systemctl", ["disable", "--now", svc], { stdio: "ignore" });
    } catch {
      // no systemd here: nothing was started
    }
  }
}

/** Waits (10 s at most) until `name` answers on port with a NOERROR, or throws with the log. */
async function answers(port: number, name: string, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    try {
      const out = execFileSync(
        "dig",
        ["@127.0.0.1", "-p", String(port), name, "A", "+short", "+time=1", "+tries=1"],
        {
          encoding: "utf8",
        },
      );
      if (out.trim() !== "") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill("SIGKILL");
  throw new Error(`peer on port ${port} did not answer ${name}:\n${log().slice(-2000)}`);
}

function spawnLogged(
  cmd: string,
  args: string[],
  cpus: string | undefined,
): { proc: ChildProcess; log: () => string } {
  const proc = spawn(...pinned(cpus, cmd, args), { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const keep = (d: Buffer) => {
    if (text.length < 50_000) text += d.toString();
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  return { proc, log: () => text };
}

/** NSD, one server process, RRL off, serving `zoneFile` as example.com. */
export async function startNsd(work: string, port: number, zoneFile: string, cpus?: string): Promise<Peer> {
  const dir = join(work, "nsd");
  mkdirSync(dir, { recursive: true });
  copyFileSync(zoneFile, join(dir, "example.com.zone"));
  const conf = join(dir, "nsd.conf");
  writeFileSync(
    conf,
    [
      "server:",
      `  zonesdir: "${dir}"`,
      `  port: ${port}`,
      "  ip-address: 127.0.0.1",
      "  server-count: 1",
      '  username: ""',
      `  database: ""`,
      `  pidfile: "${dir}/nsd.pid"`,
      `  xfrdfile: "${dir}/xfrd.state"`,
      `  zonelistfile: "${dir}/zone.list"`,
      `  xfrdir: "${dir}"`,
      "  rrl-ratelimit: 0",
      "  rrl-whitelist-ratelimit: 0",
      "  verbosity: 0",
      "  hide-version: yes",
      "remote-control:",
      "  control-enable: no",
      "zone:",
      "  name: example.com",
      "  zonefile: example.com.zone",
      "",
    ].join("\n"),
  );
  const { proc, log } = spawnLogged("nsd", ["-d", "-c", conf], cpus);
  await answers(port, "mx1.example.com", proc, log);
  return { name: "nsd", proc };
}

/**
 * PowerDNS Authoritative with the bind backend: the zone plus `pool` as a LUA record that picks
 * one of the bench pool's 8 addresses by weight (pickwrandom), and every cache off, so each
 * query runs the LUA record as a dynamic answer would.
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
  writeFileSync(join(dir, "pdns.conf"), "");
  const { proc, log } = spawnLogged(
    "pdns_server",
    [
      `--config-dir=${dir}`,
      `--socket-dir=${dir}`,
      "--local-address=127.0.0.1",
      `--local-port=${port}`,
      "--launch=bind",
      `--bind-config=${dir}/named.conf`,
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
  await answers(port, "pool.example.com", proc, log);
  return { name: "pdns", proc };
}

export const BENCH_ZONE = join(ROOT, "zones/example.com.zone");
