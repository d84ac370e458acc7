#!/usr/bin/env node
/** `lbdns` command line (commander). */
import { availableParallelism } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import { STATUSES } from "../health/report.js";
import { parseDuration } from "../pools/schema.js";
import { agent } from "./agent.js";
import { CliError } from "./errors.js";
import {
  poolAddMember,
  poolAddRelay,
  poolCreate,
  poolList,
  poolRemoveMember,
  poolSet,
  poolSetState,
  poolShow,
} from "./pool.js";
import { report } from "./report.js";
import { serve } from "./serve.js";
import { explainCommand, status } from "./status.js";
import { zoneAdd, zoneCheck, zoneCreate, zoneList, zoneRemove, zoneShow } from "./zone.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return previous ? [...previous, value] : [value];
}

function number(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a number >= ${min}`);
    return n;
  };
}

function duration(name: string, allowZero = false) {
  return (value: string): number => {
    const ms = parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
    if (ms === undefined || ms < 0 || (ms === 0 && !allowZero))
      throw new InvalidArgumentError(`${name} must be a duration like 500ms, 60s or 2m`);
    return ms;
  };
}

const redisHelp =
  "Redis URL: redis://[user:pass@]host:port[/db], rediss://... (TLS), redis-sentinel://host:26379[,host:port]/master";

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(value);
  };
}

function workerCount(value: string): number {
  if (value === "auto") return availableParallelism();
  return positiveInt("--workers")(value);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("lbdns")
    .description("Authoritative DNS server with load-aware answers")
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("serve")
    .description("serve the zones in a directory over UDP and TCP")
    .addOption(
      new Option("--zones <dir>", "directory of *.zone master files").env("LBDNS_ZONES").default("./zones"),
    )
    .option(
      "--listen <host:port>",
      "address to answer on, UDP and TCP; repeat for more (IPv6 as [::1]:5300) (default: 127.0.0.1:5300)",
      collect,
    )
    .option("--pools <file>", "pools file (default: <zones>/pools.yaml)")
    .addOption(new Option("--redis <url>", `health reports from Redis; ${redisHelp}`).env("LBDNS_REDIS_URL"))
    .option("--redis-prefix <prefix>", "key and channel prefix, so deployments can share one Redis", "lbdns:")
    .option(
      "--admin <host:port>",
      "admin HTTP endpoint (reports, status, metrics), or 'off'",
      "127.0.0.1:8053",
    )
    .option(
      "--metrics <host:port>",
      "serve Prometheus /metrics, /healthz and /readyz here (no auth: use a private address)",
    )
    .addOption(
      new Option("--admin-token <token>", "bearer token for the admin endpoint (required off loopback)").env(
        "LBDNS_ADMIN_TOKEN",
      ),
    )
    .option(
      "--rrl-rate <n>",
      "response rate limit: identical UDP responses per second per client /24 (/56); 0 turns it off",
      number("--rrl-rate"),
      20,
    )
    .option(
      "--rrl-slip <n>",
      "send every n-th rate-limited response truncated (TC) instead of dropping it; 0 drops all",
      number("--rrl-slip"),
      2,
    )
    .option("--rrl-loopback", "rate-limit loopback clients too (they are exempt by default)", false)
    .option("--no-watch", "do not reload when files in the zones directory change (SIGHUP still reloads)")
    .option("--log-queries", "log every query (off by default: it costs throughput)", false)
    .option("--log-level <level>", "pino log level: fatal, error, warn, info, debug, trace")
    .option(
      "--tcp-idle-timeout <ms>",
      "close idle TCP connections after this long",
      positiveInt("--tcp-idle-timeout"),
      10_000,
    )
    .option(
      "--workers <n>",
      "worker processes sharing the sockets, each with its own health view; 'auto' = one per CPU",
      workerCount,
      1,
    )
    .option(
      "--tcp-read-timeout <ms>",
      "close a TCP connection whose query has begun but not arrived in full within this long",
      positiveInt("--tcp-read-timeout"),
      5_000,
    )
    .option(
      "--max-query-size <bytes>",
      "drop queries larger than this (UDP datagram or TCP message); queries are a few hundred bytes",
      positiveInt("--max-query-size"),
      4096,
    )
    .option(
      "--tcp-max-connections <n>",
      "open TCP connections at most",
      positiveInt("--tcp-max-connections"),
      1_000,
    )
    .option(
      "--tcp-max-per-client <n>",
      "open TCP connections per client address at most",
      positiveInt("--tcp-max-per-client"),
      64,
    )
    .action(async (opts) => {
      await serve({
        zones: opts.zones,
        pools: opts.pools,
        listen: opts.listen ?? ["127.0.0.1:5300"],
        redis: opts.redis,
        redisPrefix: opts.redisPrefix,
        admin: opts.admin,
        adminToken: opts.adminToken,
        metrics: opts.metrics,
        rrlRate: opts.rrlRate,
        rrlSlip: opts.rrlSlip,
        rrlLoopback: opts.rrlLoopback,
        logQueries: opts.logQueries,
        logLevel: opts.logLevel,
        tcpIdleTimeout: opts.tcpIdleTimeout,
        workers: opts.workers,
        tcpReadTimeout: opts.tcpReadTimeout,
        maxQuerySize: opts.maxQuerySize,
        tcpMaxConnections: opts.tcpMaxConnections,
        tcpMaxPerClient: opts.tcpMaxPerClient,
        watch: opts.watch,
      });
    });

  program
    .command("report")
    .description("publish one health report for a member (SET with expiry + PUBLISH, or POST to a server)")
    .requiredOption("--member <id>", "member id, as in pools.yaml")
    .requiredOption("--load <n>", "current load, in the same unit as capacity", number("--load"))
    .option(
      "--capacity <n>",
      "capacity (overrides pools.yaml while the report is fresh)",
      number("--capacity", Number.MIN_VALUE),
    )
    .addOption(new Option("--status <status>", "member status").choices([...STATUSES]).default("up"))
    .option(
      "--ttl <duration>",
      "how long Redis keeps the report (the key expires after this)",
      duration("--ttl"),
      60_000,
    )
    .addOption(new Option("--redis <url>", redisHelp).env("LBDNS_REDIS_URL"))
    .option("--redis-prefix <prefix>", "key and channel prefix", "lbdns:")
    .option("--server <url>", "post to a server's admin endpoint instead, e.g. http://127.0.0.1:8053")
    .addOption(new Option("--token <token>", "bearer token for --server").env("LBDNS_ADMIN_TOKEN"))
    .action(async (opts) => {
      await report(opts);
    });

  program
    .command("agent")
    .description(
      "measure a server's load and health beside it and publish reports (every interval, and drain on SIGTERM)",
    )
    .option("--member <id>", "member id, as in pools.yaml")
    .option("--config <file>", "YAML file listing several members (see README)")
    .addOption(new Option("--redis <url>", redisHelp).env("LBDNS_REDIS_URL"))
    .option("--redis-prefix <prefix>", "key and channel prefix (default: lbdns:)")
    .option("--server <url>", "post to a server's admin endpoint instead, e.g. http://127.0.0.1:8053")
    .addOption(new Option("--token <token>", "bearer token for --server").env("LBDNS_ADMIN_TOKEN"))
    .option("--interval <duration>", "how often to measure and report (default: 2s)", duration("--interval"))
    .option("--capacity <n>", "capacity in load units (default: 100)", number("--capacity", Number.MIN_VALUE))
    .option(
      "--load <source>",
      "load source, repeatable; the first is the load, all go to metrics: loadavg, cpu, conns:PORT, http:URL[#field], cmd:COMMAND (default: loadavg)",
      collect,
    )
    .option(
      "--check <check>",
      "service check, repeatable; sets status: tcp:HOST:PORT, http:URL, smtp:HOST:PORT",
      collect,
    )
    .option(
      "--timeout <duration>",
      "timeout of each check and load source (default: min(interval, 2s))",
      duration("--timeout"),
    )
    .option(
      "--rise <n>",
      "successes before a failed check counts as up again (default: 2)",
      positiveInt("--rise"),
    )
    .option("--fall <n>", "failures before a check counts as down (default: 3)", positiveInt("--fall"))
    .option("--expiry <duration>", "Redis key expiry (default: 3 x interval)", duration("--expiry"))
    .option(
      "--drain-grace <duration>",
      "on SIGTERM, wait this long after publishing drain (default: 0)",
      duration("--drain-grace", true),
    )
    .addOption(
      new Option("--on-exit <status>", "status published on SIGTERM/SIGINT").choices(["drain", "down"]),
    )
    .option("--log-level <level>", "pino log level")
    .action(async (opts) => {
      await agent(opts);
    });

  const zonesOption = () =>
    new Option("--zones <dir>", "directory of *.zone files").env("LBDNS_ZONES").default("./zones");
  const zone = program
    .command("zone")
    .description(
      "list, show, create, edit and check zones (edits are validated, atomic, and bump the SOA serial)",
    );
  zone
    .command("list")
    .description("zones with their serial and record count")
    .addOption(zonesOption())
    .option("--json", "JSON output")
    .action((opts) => zoneList(opts));
  zone
    .command("show")
    .description("the records of a zone")
    .argument("<zone>", "zone name, e.g. example.com")
    .addOption(zonesOption())
    .option("--json", "JSON output")
    .action((z, opts) => zoneShow(opts, z));
  zone
    .command("create")
    .description("create a zone file with SOA and NS records")
    .argument("<zone>", "zone name, e.g. example.org")
    .requiredOption("--ns <name...>", "name servers (absolute, or relative to the zone)")
    .requiredOption("--email <address>", "responsible person, e.g. hostmaster@example.org")
    .option("--ttl <seconds>", "default TTL ($TTL)", positiveInt("--ttl"), 3600)
    .addOption(zonesOption())
    .action((z, opts) => zoneCreate(opts, z, opts.ns, opts.email, opts.ttl));
  zone
    .command("add")
    .description("add one record, e.g.: lbdns zone add example.com www A 192.0.2.1")
    .argument("<zone>", "zone name")
    .argument("<name>", "owner: @, relative to the zone, or absolute")
    .argument("<type>", "record type (A, AAAA, MX, TXT, ... or TYPEnnn)")
    .argument("<value...>", "RDATA as in a zone file, e.g. '10 mx1' or '\"v=spf1 -all\"'")
    .option("--ttl <seconds>", "TTL (default: the RRset's, else the zone's $TTL)", number("--ttl"))
    .addOption(zonesOption())
    .option("--pools <file>", "pools file to keep valid (default: <zones>/pools.yaml)")
    .action((z, name, type, value: string[], opts) =>
      zoneAdd(opts, z, name, type, value.join(" "), opts.ttl),
    );
  zone
    .command("rm")
    .description("remove records: all at a name, of one type, or one record")
    .argument("<zone>", "zone name")
    .argument("<name>", "owner")
    .argument("[type]", "record type")
    .argument("[value...]", "RDATA of the one record to remove")
    .addOption(zonesOption())
    .option("--pools <file>", "pools file to keep valid (default: <zones>/pools.yaml)")
    .action((z, name, type, value: string[], opts) =>
      zoneRemove(opts, z, name, type, value.length ? value.join(" ") : undefined),
    );
  zone
    .command("check")
    .description("validate zones and pools.yaml; every problem is printed with file:line")
    .argument("[zone]", "one zone (default: all)")
    .addOption(zonesOption())
    .option("--pools <file>", "pools file (default: <zones>/pools.yaml)")
    .action((z, opts) => {
      if (zoneCheck(opts, z) > 0) process.exitCode = 1;
    });

  const pool = program
    .command("pool")
    .description("list, show and edit pools in pools.yaml (validated against the zones, written atomically)");
  const poolCmd = (name: string, description: string) =>
    pool
      .command(name)
      .description(description)
      .addOption(zonesOption())
      .option("--pools <file>", "pools file (default: <zones>/pools.yaml)");
  poolCmd("list", "pools with their type, policy and names")
    .option("--json", "JSON output")
    .action((opts) => poolList(opts));
  poolCmd("show", "one pool's settings")
    .argument("<pool>")
    .option("--json", "JSON output")
    .action((p, opts) => poolShow(opts, p));
  poolCmd("create", "create a pool for owner names")
    .argument("<pool>")
    .requiredOption("--names <name...>", "absolute owner names, e.g. www.example.com.")
    .addOption(
      new Option("--type <type>", "a: address answers; mx: mail exchangers")
        .choices(["a", "mx"])
        .default("a"),
    )
    .action((p, opts) => poolCreate(opts, p, opts.names, opts.type));
  poolCmd("add-member", "add a member (ADDR: one address, or several joined by commas)")
    .argument("<pool>")
    .argument("<id>", "member id, unique across pools; agents report under it")
    .argument("<addr>", "e.g. 192.0.2.11 or 192.0.2.11,2001:db8::11")
    .option("--capacity <n>", "capacity in load units (default 100)", number("--capacity", Number.MIN_VALUE))
    .option("--weight <n>", "static weight, for policy weighted", number("--weight"))
    .option("--region <name>", "region, from regions: in pools.yaml")
    .option("--host <name>", "MX pools: the mail server's absolute name")
    .option("--preference <n>", "MX pools: MX preference", positiveInt("--preference"))
    .option("--standby", "MX pools: add as standby (promoted when every primary is down)")
    .action((p, id, addr, opts) => poolAddMember(opts, p, id, addr, opts));
  poolCmd("rm-member", "remove a member")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolRemoveMember(opts, p, id));
  poolCmd("drain", "stop giving a member new answers (state: drain)")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolSetState(opts, p, id, "drain"));
  poolCmd("undrain", "give a drained member answers again (state: active)")
    .argument("<pool>")
    .argument("<id>")
    .action((p, id, opts) => poolSetState(opts, p, id, "active"));
  poolCmd("add-relay", "MX pools: add a relay, listed after every primary")
    .argument("<pool>")
    .argument("<host>", "absolute name of the relay")
    .argument("<pref>", "MX preference, above every primary's", positiveInt("<pref>"))
    .action((p, host, pref, opts) => poolAddRelay(opts, p, host, pref));
  poolCmd("set", "set a pool setting, e.g.: lbdns pool set web policy least-loaded")
    .argument("<pool>")
    .argument(
      "<key>",
      "policy, mode, ttl, answers, max-utilization, stale-after, fallback, stream-managers, names",
    )
    .argument("<value>", "a YAML value: 30, least-loaded, [192.0.2.99]")
    .action((p, key, value, opts) => poolSet(opts, p, key, value));

  program
    .command("status")
    .description(
      "live view: each pool's members, reason, load, utilization, report age, share of answers now",
    )
    .option("--server <url>", "a running server's admin endpoint (default: http://127.0.0.1:8053)")
    .addOption(
      new Option("--redis <url>", "without a server: build the view from Redis and the files").env(
        "LBDNS_REDIS_URL",
      ),
    )
    .option("--redis-prefix <prefix>", "key and channel prefix", "lbdns:")
    .addOption(zonesOption())
    .option("--pools <file>", "pools file (default: <zones>/pools.yaml)")
    .addOption(new Option("--token <token>", "bearer token for --server").env("LBDNS_ADMIN_TOKEN"))
    .option("--json", "JSON output")
    .option("--watch", "redraw every second")
    .action((opts) => status(opts));
  program
    .command("explain")
    .description("the answer lbdns would give now for NAME (and TYPE), and why, from a running server")
    .argument("<name>", "e.g. www.example.com")
    .argument("[type]", "record type (default A)")
    .option("--client <ip>", "the client (or ECS subnet address) asking: shows its region and sticky choice")
    .option("--server <url>", "admin endpoint (default: http://127.0.0.1:8053)")
    .addOption(new Option("--token <token>", "bearer token").env("LBDNS_ADMIN_TOKEN"))
    .option("--json", "JSON output")
    .action((name, type, opts) => explainCommand(name, type, opts));
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`lbdns: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  });
