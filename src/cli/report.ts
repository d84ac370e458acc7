/** `lbdns report`: publish one health report (handy for scripts, tests and manual overrides). */

import { Command, Option } from "commander";
import { postToServer, publishToRedis } from "../health/publish.js";
import { createRedis, redact, redisOptions } from "../health/redis-client.js";
import { type Report, type ReportStatus, reportSchema, STATUSES } from "../health/report.js";
import { UserError } from "../lib/errors.js";
import { clientToken } from "../lib/token.js";
import {
  duration,
  number,
  positive,
  redisOption,
  redisPrefixOption,
  serverOption,
  tokenFileOption,
  tokenOption,
} from "./options.js";

export interface ReportOptions {
  member: string;
  load: number;
  capacity?: number;
  status: ReportStatus;
  ttl: number;
  redis?: string;
  redisPrefix: string;
  server?: string;
  token?: string;
  tokenFile: string;
}

export async function report(opts: ReportOptions): Promise<void> {
  if (!opts.redis && !opts.server)
    throw new UserError("say where to send it: --redis URL (or LBDNS_REDIS_URL) or --server URL");
  if (opts.redis && opts.server) throw new UserError("--redis and --server are alternatives: give one");
  const candidate: Report = {
    v: 1,
    member: opts.member,
    status: opts.status,
    load: opts.load,
    ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
    ts: Date.now(),
  };
  const parsed = reportSchema.safeParse(candidate);
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    throw new UserError(`invalid report: ${iss.path.join(".")}: ${iss.message}`);
  }
  if (opts.server) {
    try {
      await postToServer(opts.server, parsed.data, clientToken(opts.token, opts.tokenFile));
    } catch (e) {
      throw new UserError(`could not post the report: ${(e as Error).message}`, 1);
    }
    return;
  }
  let connection: ReturnType<typeof redisOptions>;
  try {
    connection = redisOptions(opts.redis!);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const client = createRedis(connection, "once");
  // A failed connect rejects with only "Connection is closed."; the connection's own error (a
  // TLS verification failure, a refused port) is the reason worth printing.
  let connectionError: Error | null = null;
  client.on("error", (err: Error) => {
    connectionError ??= err;
  });
  try {
    await client.connect();
    await publishToRedis(client, opts.redisPrefix, parsed.data, opts.ttl);
  } catch (e) {
    const reason = (connectionError ?? (e as Error)).message;
    throw new UserError(`could not publish to ${redact(opts.redis!)}: ${reason}`, 1);
  } finally {
    client.disconnect();
  }
}

export function reportCommand(): Command {
  return new Command("report")
    .description("publish one health report for a member (SET with expiry + PUBLISH, or POST to a server)")
    .requiredOption("--member <id>", "member id, as in pools.yaml")
    .requiredOption("--load <n>", "current load, in the same unit as capacity", number("--load"))
    .option(
      "--capacity <n>",
      "capacity (overrides pools.yaml while the report is fresh)",
      positive("--capacity"),
    )
    .addOption(new Option("--status <status>", "member status").choices([...STATUSES]).default("up"))
    .option(
      "--ttl <duration>",
      "how long Redis keeps the report (the key expires after this)",
      duration("--ttl"),
      60_000,
    )
    .addOption(redisOption())
    .addOption(redisPrefixOption(true))
    .addOption(serverOption("post to a server's admin endpoint instead"))
    .addOption(tokenOption())
    .addOption(tokenFileOption())
    .action(async (opts) => {
      await report(opts);
    });
}
