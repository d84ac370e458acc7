/**
 * The peers lbdns is compared and measured against, started for real on loopback from their
 * Debian packages: NSD (RRL off, one server process) and Knot DNS (no RRL module). Each gets its
 * own work directory, so nothing under /etc is touched and no daemon outlives its user.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { kill, pinned, waitFor } from "./procs.js";

export interface Peer {
  name: string;
  proc: ChildProcess;
  port: number;
}

/** A zone to serve: its origin (absolute, "example.com.") and its master file. */
export interface PeerZone {
  origin: string;
  file: string;
}

export function installed(bin: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Installs the Debian packages of missing binaries (as root), and stops any daemon they start. */
export function ensureInstalled(packages: Record<string, string[]>, daemons: string[] = []): void {
  const need = Object.entries(packages)
    .filter(([bin]) => !installed(bin))
    .flatMap(([, pkgs]) => pkgs);
  if (need.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`needed: apt-get install -y ${need.join(" ")}`);
  console.error(`installing ${need.join(" ")} (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...need], { stdio: "inherit", env });
  // Debian starts the packaged daemons on install where systemd runs; we start our own.
  for (const svc of daemons) {
    try {
      execFileSync("systemctl", ["disable", "--now", svc], { stdio: "ignore" });
    } catch {
      // no systemd here: nothing was started
    }
  }
}

/** Waits (10 s at most) until every zone's SOA is answered on `port`, or throws with the log. */
export async function untilServing(
  port: number,
  origins: string[],
  proc: ChildProcess,
  log: () => string,
): Promise<void> {
  const pending = new Set(origins);
  for (let i = 0; i < 100 && pending.size > 0; i++) {
    if (proc.exitCode !== null) break;
    for (const origin of [...pending]) {
      try {
        const out = execFileSync(
          "dig",
          ["@127.0.0.1", "-p", String(port), origin, "SOA", "+norec", "+time=1", "+tries=1"],
          { encoding: "utf8" },
        );
        if (/status: NOERROR/.test(out) && /flags: qr aa/.test(out)) pending.delete(origin);
      } catch {
        // not up yet
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
  if (pending.size === 0) return;
  proc.kill("SIGKILL");
  throw new Error(`peer on port ${port} does not serve ${[...pending].join(", ")}:\n${log().slice(-3000)}`);
}

export function spawnLogged(
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

/** Copies the zone files into `dir` under their own names; returns [origin, file name] pairs. */
function stage(dir: string, zones: readonly PeerZone[]): [string, string][] {
  return zones.map((z) => {
    const name = basename(z.file);
    copyFileSync(z.file, join(dir, name));
    return [z.origin, name];
  });
}

/** NSD: one server process, RRL off, minimal responses (no apex NS added to answers). */
export async function startNsd(
  work: string,
  port: number,
  zones: readonly PeerZone[],
  cpus?: string,
): Promise<Peer> {
  const dir = join(work, "nsd");
  mkdirSync(dir, { recursive: true });
  const staged = stage(dir, zones);
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
      "  minimal-responses: yes",
      "  verbosity: 0",
      "  hide-version: yes",
      "  hide-identity: yes",
      "remote-control:",
      "  control-enable: no",
      ...staged.flatMap(([origin, file]) => ["zone:", `  name: "${origin}"`, `  zonefile: "${file}"`]),
      "",
    ].join("\n"),
  );
  const { proc, log } = spawnLogged("nsd", ["-d", "-c", conf], cpus);
  await untilServing(
    port,
    zones.map((z) => z.origin),
    proc,
    log,
  );
  return { name: "nsd", proc, port };
}

/**
 * Knot DNS: no RRL module, zone files read as they are, nothing written back. `cookieSecret`
 * (32 hex digits) loads its cookies module with that secret (RFC 9018 server cookies).
 */
export async function startKnot(
  work: string,
  port: number,
  zones: readonly PeerZone[],
  cpus?: string,
  opts: { cookieSecret?: string } = {},
): Promise<Peer> {
  const dir = join(work, "knot");
  mkdirSync(join(dir, "db"), { recursive: true });
  const staged = stage(dir, zones);
  const conf = join(dir, "knot.conf");
  writeFileSync(
    conf,
    [
      "server:",
      `  rundir: "${dir}"`,
      `  listen: 127.0.0.1@${port}`,
      "  background-workers: 1",
      "  udp-workers: 1",
      "  tcp-workers: 1",
      "log:",
      "  - target: stderr",
      "    any: error",
      "database:",
      `  storage: "${join(dir, "db")}"`,
      "control:",
      `  listen: "${join(dir, "knot.sock")}"`,
      ...(opts.cookieSecret ? ["mod-cookies:", "  - id: shared", `    secret: 0x${opts.cookieSecret}`] : []),
      "template:",
      "  - id: default",
      `    storage: "${dir}"`,
      "    zonefile-sync: -1",
      "    zonefile-load: whole",
      "    journal-content: none",
      "    semantic-checks: off",
      ...(opts.cookieSecret ? ["    global-module: mod-cookies/shared"] : []),
      "zone:",
      ...staged.flatMap(([origin, file]) => [`  - domain: "${origin}"`, `    file: "${file}"`]),
      "",
    ].join("\n"),
  );
  const { proc, log } = spawnLogged("knotd", ["-c", conf], cpus);
  await untilServing(
    port,
    zones.map((z) => z.origin),
    proc,
    log,
  );
  return { name: "knot", proc, port };
}

/**
 * Signs a zone file with Knot DNS's own signer, as an operator whose zone Knot signs would:
 * knotd with automatic DNSSEC (a KSK and a ZSK, ECDSA P-256, CDS/CDNSKEY at the apex), NSEC or
 * NSEC3 with no salt and no extra iterations (RFC 9276). Knot writes the signed zone back over
 * the file; that dump is copied to `out`, and knotd is stopped. It listens on no address.
 */
export async function signWithKnot(
  work: string,
  zone: PeerZone,
  out: string,
  opts: { nsec3: boolean; optOut?: boolean },
): Promise<void> {
  const dir = join(work, `knot-signer-${zone.origin}`);
  mkdirSync(join(dir, "db"), { recursive: true });
  const [[, name]] = stage(dir, [zone]) as [[string, string]];
  const conf = join(dir, "knot.conf");
  writeFileSync(
    conf,
    [
      "server:",
      `  rundir: "${dir}"`,
      "  background-workers: 1",
      "log:",
      "  - target: stderr",
      "    any: info",
      "database:",
      `  storage: "${join(dir, "db")}"`,
      "policy:",
      "  - id: signer",
      "    algorithm: ecdsap256sha256",
      `    nsec3: ${opts.nsec3 ? "on" : "off"}`,
      "    nsec3-iterations: 0",
      "    nsec3-salt-length: 0",
      `    nsec3-opt-out: ${opts.optOut ? "on" : "off"}`,
      "template:",
      "  - id: default",
      `    storage: "${dir}"`,
      "    zonefile-sync: 0",
      "    zonefile-load: whole",
      "    journal-content: none",
      "    dnssec-signing: on",
      "    dnssec-policy: signer",
      "zone:",
      `  - domain: "${zone.origin}"`,
      `    file: "${name}"`,
      "",
    ].join("\n"),
  );
  const { proc, log } = spawnLogged("knotd", ["-c", conf], undefined);
  try {
    await waitFor(
      () => proc.exitCode !== null || /zone file updated/.test(log()),
      20_000,
      `knotd to sign ${zone.origin}`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}:\n${log().slice(-3000)}`);
    });
    if (proc.exitCode !== null)
      throw new Error(`knotd exited signing ${zone.origin}:\n${log().slice(-3000)}`);
    const signed = readFileSync(join(dir, name), "utf8");
    if (!/\sRRSIG\s/.test(signed))
      throw new Error(`knotd wrote ${zone.origin} unsigned:\n${log().slice(-3000)}`);
    writeFileSync(out, signed);
  } finally {
    await kill(proc, "SIGTERM");
  }
}
