/** `lbdns serve`: the command line of the server; the composition itself is app/serve.ts. */
import { Command, Option } from "commander";
import { serve } from "../app/serve.js";
import { UserError } from "../lib/errors.js";
import { packageVersion } from "../lib/version.js";
import { defaultIdentity } from "../server/identity.js";
import {
  collect,
  logLevelOption,
  number,
  poolsOption,
  positiveInt,
  redisOption,
  redisPrefixOption,
  workerCount,
  zonesOption,
} from "./options.js";

export function serveCommand(): Command {
  return new Command("serve")
    .description("serve the zones in a directory over UDP and TCP")
    .addOption(zonesOption())
    .option(
      "--listen <host:port>",
      "address to answer on, UDP and TCP; repeat for more (IPv6 as [::1]:5300) (default: 127.0.0.1:5300)",
      collect,
    )
    .addOption(poolsOption())
    .addOption(redisOption())
    .addOption(redisPrefixOption(true))
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
      new Option(
        "--admin-token <token>",
        "bearer token for the admin endpoint (default: the one in --admin-token-file)",
      ).env("LBDNS_ADMIN_TOKEN"),
    )
    .addOption(
      new Option(
        "--admin-token-file <path>",
        "file with the admin token, created (mode 0600, random) when missing; the client commands read it too (default: ZONES/.admin-token)",
      ).env("LBDNS_ADMIN_TOKEN_FILE"),
    )
    .option(
      "--no-admin-token",
      "accept admin requests without a token (loopback only: any local process can then post reports)",
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
    .addOption(logLevelOption())
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
    .option(
      "--identity <text>",
      "what id.server and hostname.bind (CHAOS TXT) answer; 'none' refuses them",
      defaultIdentity(packageVersion()).identity!,
    )
    .option(
      "--version-string <text>",
      "what version.bind and version.server (CHAOS TXT) answer; 'none' refuses them",
      `lbdns ${packageVersion()}`,
    )
    .addOption(
      new Option(
        "--cookie-secret <hex>",
        "server cookie secret (RFC 9018), 32 hex digits; give every instance of a fleet the same (default: random at start)",
      ).env("LBDNS_COOKIE_SECRET"),
    )
    .option(
      "--cookie-secret-previous <hex>",
      "the secret before the last rotation: its cookies are still accepted, never made",
    )
    .option(
      "--nsid <text>",
      "NSID (RFC 5001) sent to queries that ask, to tell instances apart: text, hex:0a1b..., or 'none'",
      "none",
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
        adminTokenFile: opts.adminTokenFile,
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
        cookieSecret: opts.cookieSecret,
        cookieSecretPrevious: opts.cookieSecretPrevious,
        identity: {
          identity: chaosText("--identity", opts.identity),
          version: chaosText("--version-string", opts.versionString),
          nsid: opts.nsid === "none" ? null : nsidBytes(opts.nsid),
        },
      });
    });
}

/** The NSID payload: `hex:...` as bytes, anything else as its UTF-8 text. */
function nsidBytes(text: string): Buffer {
  const bytes = text.startsWith("hex:") ? hexNsid(text) : Buffer.from(text, "utf8");
  if (bytes.length === 0 || bytes.length > 128)
    throw new UserError(`--nsid: 1 to 128 bytes, not ${bytes.length}`);
  return bytes;
}

function hexNsid(text: string): Buffer {
  const hex = text.slice(4);
  if (!/^([0-9a-fA-F]{2})+$/.test(hex))
    throw new UserError(`--nsid ${text}: not an even number of hex digits`);
  return Buffer.from(hex, "hex");
}

/** A CHAOS TXT value: 'none' hides it; at most 1,000 characters, so it always fits one answer. */
function chaosText(option: string, text: string): string | null {
  if (text === "none") return null;
  if (text.length === 0 || text.length > 1_000)
    throw new UserError(`${option}: 1 to 1,000 characters, or 'none'`);
  return text;
}
