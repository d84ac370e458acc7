/** `lbdns agent`: measure load and service health beside a server, and publish reports. */

import { Command, Option } from "commander";
import { Agent } from "../agent/agent.js";
import { type AgentSpec, buildMembers, readAgentFile } from "../agent/config.js";
import { HttpPublisher, type Publisher, RedisPublisher } from "../agent/publisher.js";
import { redisOptions } from "../health/redis-client.js";
import { parseDuration } from "../lib/duration.js";
import { UserError } from "../lib/errors.js";
import { createLogger } from "../lib/logger.js";
import { clientToken } from "../lib/token.js";
import {
  collect,
  duration,
  logLevelOption,
  positive,
  positiveInt,
  redisOption,
  redisPrefixOption,
  serverOption,
  tokenFileOption,
  tokenOption,
} from "./options.js";

export interface AgentOptions {
  member?: string;
  config?: string;
  redis?: string;
  server?: string;
  token?: string;
  tokenFile: string;
  redisPrefix?: string;
  interval?: number;
  capacity?: number;
  load?: string[];
  check?: string[];
  timeout?: number;
  rise?: number;
  fall?: number;
  expiry?: number;
  drainGrace?: number;
  onExit?: "drain" | "down";
  logLevel?: string;
}

function ms(value: string | number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = parseDuration(value);
  if (v === undefined) throw new UserError(`${name}: '${value}' is not a duration`);
  return v;
}

export function agentSpec(opts: AgentOptions): AgentSpec {
  const file = opts.config ? readAgentFile(opts.config) : undefined;
  if (file && opts.member)
    throw new UserError("--member and --config are alternatives: list members in the file");
  if (!file && !opts.member)
    throw new UserError("say which member this agent reports for: --member ID (or --config FILE)");
  const redis = opts.redis ?? file?.redis;
  const server = opts.server ?? file?.server;
  if (!redis && !server)
    throw new UserError("say where to publish: --redis URL (or LBDNS_REDIS_URL) or --server URL");
  if (redis && server) throw new UserError("--redis and --server are alternatives: give one");
  if (redis) redisOptions(redis);
  // Only an agent posting to a server needs the admin token; a Redis agent has no token file.
  const token = server ? clientToken(opts.token ?? file?.token, opts.tokenFile) : undefined;
  const intervalMs = opts.interval ?? file?.interval ?? 2_000;
  const timeoutMs = opts.timeout ?? file?.timeout ?? Math.min(intervalMs, 2_000);
  const members = file
    ? buildMembers(file.members, timeoutMs)
    : buildMembers(
        [{ member: opts.member!, capacity: opts.capacity, load: opts.load, check: opts.check }],
        timeoutMs,
      );
  return {
    ...(redis ? { redis } : {}),
    ...(server ? { server } : {}),
    ...(token ? { token } : {}),
    prefix: opts.redisPrefix ?? file?.["redis-prefix"] ?? "lbdns:",
    intervalMs,
    expiryMs: opts.expiry ?? file?.expiry ?? 3 * intervalMs,
    timeoutMs,
    rise: opts.rise ?? file?.rise ?? 2,
    fall: opts.fall ?? file?.fall ?? 3,
    drainGraceMs: opts.drainGrace ?? ms(file?.["drain-grace"], "drain-grace") ?? 0,
    onExit: opts.onExit ?? file?.["on-exit"] ?? "drain",
    members,
  };
}

export async function agent(opts: AgentOptions): Promise<void> {
  const spec = agentSpec(opts);
  const log = createLogger(opts.logLevel);
  const publisher: Publisher = spec.redis
    ? new RedisPublisher(spec.redis, spec.prefix, log)
    : new HttpPublisher(spec.server!, spec.token);
  const running = new Agent(spec, publisher, log);
  running.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stop requested");
    // Every check, load source and publish has its own deadline, so this is only a last resort.
    setTimeout(
      () => {
        log.error("could not stop in time; exiting without the final report");
        process.exit(1);
      },
      spec.drainGraceMs + 3 * spec.timeoutMs + 10_000,
    ).unref();
    running.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

export function agentCommand(): Command {
  return new Command("agent")
    .description(
      "measure a server's load and health beside it and publish reports (every interval, and drain on SIGTERM)",
    )
    .option("--member <id>", "member id, as in pools.yaml")
    .option("--config <file>", "YAML file listing several members (see README)")
    .addOption(redisOption())
    .addOption(redisPrefixOption(false))
    .addOption(serverOption("post to a server's admin endpoint instead"))
    .addOption(tokenOption())
    .addOption(tokenFileOption())
    .option("--interval <duration>", "how often to measure and report (default: 2s)", duration("--interval"))
    .option(
      "--capacity <n>",
      "capacity in load units, sent in every report and overriding pools.yaml (default: none, so the pool's capacity stands; 100 for loadavg and cpu, which report percent)",
      positive("--capacity"),
    )
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
    .addOption(logLevelOption())
    .action(async (opts) => {
      await agent(opts);
    });
}
