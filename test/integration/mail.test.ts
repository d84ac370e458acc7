/**
 * Mail through a real MTA (issue 19, load-aware mail shares): Postfix, resolving through a real
 * unbound that has a stub zone pointing at lbdns, delivers to SMTP sinks on loopback. Postfix runs
 * in its own mount namespace (unshare -m), where /etc/resolv.conf, /etc/postfix and its queue
 * are bind-mounted from a temp directory, so the machine's own configuration is never touched.
 *
 * With two healthy primaries at a 2:1 headroom ratio and a 1 s TTL, a few hundred messages over
 * many TTL windows split within 15% of 2:1; with both primaries down every message goes to the
 * relay; none is lost.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dig } from "../helpers/dig.js";
import { type Running, runCli, startServe, waitFor } from "../helpers/lbdns.js";
import { freePort } from "../helpers/redis.js";
import { tempDir } from "../helpers/zones.js";

const ZONE = "lbdns-mail.example";
const SINKS = { "mx-1": "127.0.0.21", "mx-2": "127.0.0.22", relay: "127.0.0.29" } as const;
type Sink = keyof typeof SINKS;
const RESOLVER = `127.0.53.${2 + (process.pid % 200)}`;

const tmp = tempDir();
let server: Running;
let unbound: ChildProcess;
let postfix: ChildProcess;
let submitPort: number;
const sinks: Server[] = [];
const received: Record<Sink, number> = { "mx-1": 0, "mx-2": 0, relay: 0 };
const postfixLog = () => {
  const file = join(tmp.dir, "postfix/lib/maillog");
  return existsSync(file) ? readFileSync(file, "utf8").slice(-3_000) : "(no log)";
};

/** A minimal SMTP server that accepts every message and counts it. */
function sink(name: Sink): Promise<Server> {
  const srv = createServer((s) => {
    let buf = "";
    let inData = false;
    s.write("220 sink ESMTP\r\n");
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            received[name]++;
            s.write("250 queued\r\n");
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") s.write("250 sink\r\n");
        else if (verb === "DATA") {
          inData = true;
          s.write("354 go on\r\n");
        } else if (verb === "QUIT") s.end("221 bye\r\n");
        else s.write("250 ok\r\n");
      }
    });
  });
  return new Promise((resolve) => srv.listen(25, SINKS[name], () => resolve(srv)));
}

/** Reads SMTP replies from a client socket, one whole reply (last line "NNN ") at a time. */
function replies(s: Socket) {
  let buf = "";
  const waiting: ((line: string) => void)[] = [];
  s.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    for (;;) {
      const m = /^(\d{3}) .*\r\n/m.exec(buf);
      if (!m) return;
      buf = buf.slice(m.index + m[0].length);
      waiting.shift()?.(m[1]!);
    }
  });
  return () => new Promise<string>((resolve) => waiting.push(resolve));
}

/** Submits `n` messages to Postfix over one SMTP session, one every `gapMs`. */
async function submit(n: number, gapMs: number, tag: string): Promise<void> {
  const s = connect(submitPort, "127.0.0.1");
  const next = replies(s);
  const say = async (line: string, want: string) => {
    s.write(`${line}\r\n`);
    const code = await next();
    if (!code.startsWith(want)) throw new Error(`Postfix answered ${code} to ${line}`);
  };
  expect(await next()).toBe("220");
  await say("EHLO tester.lbdns.test", "250");
  for (let i = 0; i < n; i++) {
    await say("MAIL FROM:<tester@lbdns.test>", "250");
    await say(`RCPT TO:<user${i}@${ZONE}>`, "250");
    await say("DATA", "354");
    await say(`Subject: ${tag} ${i}\r\n\r\nmessage ${i}\r\n.`, "250");
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await say("QUIT", "221");
  s.destroy();
}

const report = (member: string, load: number, status = "up") =>
  runCli([
    "report",
    "--server",
    server.admin!,
    "--token",
    server.token!,
    "--member",
    member,
    "--load",
    String(load),
    "--status",
    status,
    "--ttl",
    "10m",
  ]);

beforeAll(async () => {
  // Port 25 on loopback addresses, port 53 for Postfix's resolver and a mount namespace need root
  // (as CI runs); .ci/run installs Postfix and unbound.
  if (process.getuid?.() !== 0) throw new Error("the mail test needs root (ports 25 and 53, unshare -m)");
  for (const bin of ["postfix", "unbound", "unshare"]) execFileSync("sh", ["-c", `command -v ${bin}`]);
  tmp.write(
    `${ZONE}.zone`,
    `$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 1
@ NS ns1
ns1 A 127.0.0.1
mx1 A ${SINKS["mx-1"]}
mx2 A ${SINKS["mx-2"]}
relay A ${SINKS.relay}
`,
  );
  tmp.write(
    "pools.yaml",
    `pools:
  mail:
    type: mx
    names: [${ZONE}.]
    ttl: 1
    stale-after: 10m
    members:
      - {id: mx-1, host: mx1.${ZONE}., capacity: 100, preference: 10}
      - {id: mx-2, host: mx2.${ZONE}., capacity: 100, preference: 10}
    relays:
      - {host: relay.${ZONE}., preference: 50}
`,
  );
  server = await startServe(["--zones", tmp.dir, "--listen", "127.0.0.1:0"]);
  for (const name of Object.keys(SINKS) as Sink[]) sinks.push(await sink(name));

  const conf = tmp.write(
    "unbound.conf",
    `server:
  interface: ${RESOLVER}
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${tmp.dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  local-zone: "example." nodefault
stub-zone:
  name: "${ZONE}"
  stub-addr: 127.0.0.1@${server.port}
`,
  );
  unbound = spawn("unbound", ["-d", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  await waitFor(
    async () => {
      try {
        return (await dig(53, ["+tries=1", "+time=1", ZONE, "SOA"], RESOLVER)).status === "NOERROR";
      } catch {
        return false;
      }
    },
    10_000,
    "unbound to answer",
  );

  // Postfix: its own configuration, queue and resolver, seen only inside its mount namespace.
  submitPort = await freePort();
  const pf = join(tmp.dir, "postfix");
  cpSync("/etc/postfix", join(pf, "etc"), { recursive: true });
  mkdirSync(join(pf, "spool"));
  mkdirSync(join(pf, "lib"));
  execFileSync("chown", ["postfix:postfix", join(pf, "lib")]);
  tmp.write("postfix/resolv.conf", `nameserver ${RESOLVER}\noptions attempts:2 timeout:1\n`);
  tmp.write(
    "postfix/etc/main.cf",
    `compatibility_level = 3.6
myhostname = sender.lbdns.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
local_transport = error:local delivery disabled
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = none
smtpd_tls_security_level = none
# A cached connection would carry later mail to the same host whatever the MX answer says.
smtp_connection_cache_on_demand = no
alias_maps =
alias_database =
maillog_file = /var/lib/postfix/maillog
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`,
  );
  const services = [
    `127.0.0.1:${submitPort} inet n - n - - smtpd`,
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ];
  tmp.write("postfix/etc/master.cf", `${services.join("\n")}\n`);
  const mounts = [
    [join(pf, "etc"), "/etc/postfix"],
    [join(pf, "spool"), "/var/spool/postfix"],
    [join(pf, "lib"), "/var/lib/postfix"],
    [join(pf, "resolv.conf"), "/etc/resolv.conf"],
  ];
  const script = `${mounts.map(([from, to]) => `mount --bind '${from}' '${to}'`).join(" && ")} && exec postfix start-fg`;
  // No pipes for its output: postlogd, which has dropped root, could not open them again.
  postfix = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { stdio: "ignore" });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (postfix.exitCode !== null) throw new Error(`Postfix exited ${postfix.exitCode}: ${postfixLog()}`);
        const s = connect(submitPort, "127.0.0.1");
        s.once("data", () => {
          s.destroy();
          resolve(true);
        });
        s.once("error", () => resolve(false));
      }),
    20_000,
    "Postfix to accept connections",
  );
}, 60_000);

afterAll(async () => {
  const pidFile = join(tmp.dir, "postfix/spool/pid/master.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
    } catch {
      // gone already
    }
  }
  postfix?.kill("SIGKILL");
  unbound?.kill("SIGKILL");
  for (const s of sinks) s.close();
  await server?.stop();
  tmp.cleanup();
});

const total = () => received["mx-1"] + received["mx-2"] + received.relay;

it("splits mail 2:1 by headroom through Postfix and unbound, then sends it all to the relay; none lost", async () => {
  // mx-1 at 40/100 (headroom 60), mx-2 at 70/100 (headroom 30): 2:1.
  expect((await report("mx-1", 40)).code).toBe(0);
  expect((await report("mx-2", 70)).code).toBe(0);
  const healthy = 240;
  await submit(healthy, 100, "healthy"); // about 24 s: many 1 s TTL windows
  await waitFor(() => total() >= healthy, 60_000, `all ${healthy} messages delivered`);
  const ratio = received["mx-1"] / received["mx-2"];
  console.log(
    `mail split: mx-1 ${received["mx-1"]}, mx-2 ${received["mx-2"]}, relay ${received.relay}; ratio ${ratio.toFixed(2)}`,
  );
  expect(ratio).toBeGreaterThan(2 * 0.85);
  expect(ratio).toBeLessThan(2 * 1.15);
  expect(received.relay).toBe(0);

  // Both primaries down: the relays take every message.
  expect((await report("mx-1", 40, "down")).code).toBe(0);
  expect((await report("mx-2", 70, "down")).code).toBe(0);
  await new Promise((r) => setTimeout(r, 2_000)); // past the 1 s TTL in unbound's cache
  const before = { ...received };
  await submit(40, 50, "down");
  await waitFor(() => total() >= healthy + 40, 60_000, "the 40 messages delivered to the relay");
  expect(received.relay - before.relay).toBe(40);
  expect(received["mx-1"]).toBe(before["mx-1"]);
  expect(received["mx-2"]).toBe(before["mx-2"]);
  expect(total()).toBe(healthy + 40);
}, 150_000);
