/**
 * A real unbound on loopback as tests and the bench use it: stub zones pointing at lbdns, and,
 * when given trust anchors, validating (module-config "validator iterator"). Nothing is cached
 * past the moment (cache-max-ttl 0), so every query reaches lbdns and a changing pool answer is
 * seen at once.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitFor } from "./procs.js";

export interface Unbound {
  port: number;
  proc: ChildProcess;
  log: () => string;
  /**
   * unbound's own counters since it started (unbound-control stats_noreset), e.g.
   * `num.answer.secure` and `num.answer.bogus`: the validation failures a test has seen.
   */
  stats(): Promise<Record<string, number>>;
  stop(): void;
}

export interface UnboundOptions {
  dir: string;
  /** Zones sent to lbdns, by name. */
  stubs: { name: string; port: number }[];
  /** Trust anchors in unbound's `trust-anchor:` form (a DS or DNSKEY record); none: not validating. */
  trustAnchors?: string[];
  /** A name to ask until unbound responds at all. */
  probe: string;
  /** Cache answers up to their TTL (default: nothing is cached). */
  cache?: boolean;
  /** Run under this command line (e.g. faketime). */
  wrap?: string[];
}

export async function startUnbound(opts: UnboundOptions): Promise<Unbound> {
  const port = await freePort();
  const validating = (opts.trustAnchors ?? []).length > 0;
  const lines = [
    "server:",
    "  interface: 127.0.0.1",
    `  port: ${port}`,
    "  do-daemonize: no",
    '  username: ""',
    '  chroot: ""',
    `  directory: "${opts.dir}"`,
    '  pidfile: ""',
    "  use-syslog: no",
    '  logfile: ""',
    "  verbosity: 1",
    "  val-log-level: 2",
    "  access-control: 127.0.0.0/8 allow",
    "  do-not-query-localhost: no",
    `  module-config: "${validating ? "validator iterator" : "iterator"}"`,
    "  use-caps-for-id: yes",
    "  edns-buffer-size: 1232",
    ...(opts.cache ? [] : ["  cache-max-ttl: 0", "  cache-max-negative-ttl: 0"]),
    // test. is one of unbound's built-in local zones (RFC 6761); let the stub zones through
    '  local-zone: "test." nodefault',
    ...(opts.trustAnchors ?? []).map((a) => `  trust-anchor: "${a}"`),
    "  extended-statistics: yes", // num.answer.secure and num.answer.bogus
    "remote-control:",
    "  control-enable: yes",
    `  control-interface: "${join(opts.dir, `unbound-${port}.ctl`)}"`,
    "  control-use-cert: no",
    ...opts.stubs.flatMap((s) => ["stub-zone:", `  name: "${s.name}"`, `  stub-addr: 127.0.0.1@${s.port}`]),
  ];
  const conf = join(opts.dir, `unbound-${port}.conf`);
  writeFileSync(conf, `${lines.join("\n")}\n`);
  const argv = ["-d", "-c", conf];
  const proc = opts.wrap?.length
    ? spawn(opts.wrap[0]!, [...opts.wrap.slice(1), "unbound", ...argv], { stdio: ["ignore", "pipe", "pipe"] })
    : spawn("unbound", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-200_000);
  };
  proc.stderr!.on("data", keep);
  proc.stdout!.on("data", keep);
  const run = promisify(execFile);
  await waitFor(
    async () => {
      try {
        // Any response will do (a validator with a wrong anchor answers SERVFAIL); a timeout will not.
        const { stdout } = await run("dig", [
          "@127.0.0.1",
          "-p",
          String(port),
          "+tries=1",
          "+time=1",
          opts.probe,
          "SOA",
        ]);
        return /status: /.test(stdout);
      } catch {
        return false;
      }
    },
    15_000,
    `unbound to answer (${log.slice(-300)})`,
  );
  const stats = async () => {
    const { stdout } = await run("unbound-control", ["-c", conf, "stats_noreset"]);
    const out: Record<string, number> = {};
    for (const line of stdout.split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) out[line.slice(0, eq)] = Number(line.slice(eq + 1));
    }
    return out;
  };
  return { port, proc, log: () => log, stats, stop: () => proc.kill("SIGKILL") };
}
