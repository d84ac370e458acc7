/** `lbdns agent`: measure load and service health beside a server, and publish reports. */
import { Agent } from "../agent/agent.js";
import { type AgentSpec, buildMembers, readAgentFile } from "../agent/config.js";
import { AgentConfigError } from "../agent/load.js";
import { HttpPublisher, type Publisher, RedisPublisher } from "../agent/publisher.js";
import { redisOptions } from "../health/redis-url.js";
import { createLogger } from "../ops/logger.js";
import { parseDuration } from "../pools/schema.js";
import { CliError } from "./errors.js";

export interface AgentOptions {
  member?: string;
  config?: string;
  redis?: string;
  server?: string;
  token?: string;
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
  if (v === undefined) throw new CliError(`${name}: '${value}' is not a duration`);
  return v;
}

export function agentSpec(opts: AgentOptions): AgentSpec {
  try {
    const file = opts.config ? readAgentFile(opts.config) : undefined;
    if (file && opts.member)
      throw new CliError("--member and --config are alternatives: list members in the file");
    if (!file && !opts.member)
      throw new CliError("say which member this agent reports for: --member ID (or --config FILE)");
    const redis = opts.redis ?? file?.redis;
    const server = opts.server ?? file?.server;
    if (!redis && !server)
      throw new CliError("say where to publish: --redis URL (or LBDNS_REDIS_URL) or --server URL");
    if (redis && server) throw new CliError("--redis and --server are alternatives: give one");
    if (redis) redisOptions(redis);
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
      ...((opts.token ?? file?.token) ? { token: opts.token ?? file?.token } : {}),
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
  } catch (e) {
    if (e instanceof AgentConfigError || (e instanceof Error && e.name === "RedisUrlError"))
      throw new CliError(e.message);
    throw e;
  }
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
