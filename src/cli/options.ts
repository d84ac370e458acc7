/**
 * Option and argument parsers shared by the commands, and the options that several commands
 * declare (zones directory, pools file, Redis, admin server, output). A bad value becomes
 * commander's one-line "error: option ... argument ... is invalid" with exit 2 (docs/cli.md).
 */
import { availableParallelism } from "node:os";
import { InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../lib/duration.js";
import { DEFAULT_TOKEN_FILE } from "../lib/token.js";
import { poolsFileFor } from "../pools/config.js";

/** Repeatable options collect into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return previous ? [...previous, value] : [value];
}

/** A finite number at least `min`; `minText` is how the bound reads in the error. */
export function number(name: string, min = 0, minText = `>= ${min}`) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a number ${minText}`);
    return n;
  };
}

/** A number greater than zero (capacities, where 0 would divide by zero). */
export function positive(name: string) {
  return number(name, Number.MIN_VALUE, "> 0");
}

export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(value);
  };
}

/** "500ms", "60s", "2m", or plain seconds, in milliseconds. */
export function duration(name: string, allowZero = false) {
  return (value: string): number => {
    const ms = parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
    if (ms === undefined || ms < 0 || (ms === 0 && !allowZero))
      throw new InvalidArgumentError(`${name} must be a duration like 500ms, 60s or 2m`);
    return ms;
  };
}

export function workerCount(value: string): number {
  if (value === "auto") return availableParallelism();
  return positiveInt("--workers")(value);
}

const REDIS_URLS =
  "redis://[user:pass@]host:port[/db], rediss://... (TLS), redis-sentinel://host:26379[,host:port]/master";

export const zonesOption = () =>
  new Option("--zones <dir>", "directory of *.zone master files").env("LBDNS_ZONES").default("./zones");

export const poolsOption = (what = "pools file") =>
  new Option("--pools <file>", `${what} (default: <zones>/pools.yaml)`);

export const redisOption = (what = "health reports in Redis") =>
  new Option("--redis <url>", `${what}: ${REDIS_URLS}`).env("LBDNS_REDIS_URL");

export const redisPrefixOption = (defaultValue: boolean) => {
  const o = new Option(
    "--redis-prefix <prefix>",
    "key and channel prefix, so deployments can share one Redis" + (defaultValue ? "" : " (default: lbdns:)"),
  );
  return defaultValue ? o.default("lbdns:") : o;
};

export const serverOption = (what: string) =>
  new Option("--server <url>", `${what}, e.g. http://127.0.0.1:8053`);

export const tokenOption = () =>
  new Option("--token <token>", "bearer token for --server (default: the one in --token-file)").env(
    "LBDNS_ADMIN_TOKEN",
  );

/** The file `serve` keeps its admin token in (see lib/token.ts). */
export const tokenFileOption = () =>
  new Option("--token-file <path>", "file holding the server's admin token, as serve --admin-token-file")
    .env("LBDNS_ADMIN_TOKEN_FILE")
    .default(DEFAULT_TOKEN_FILE);

export const jsonOption = () => new Option("--json", "JSON output");

export const logLevelOption = () =>
  new Option("--log-level <level>", "pino log level").choices([
    "fatal",
    "error",
    "warn",
    "info",
    "debug",
    "trace",
    "silent",
  ]);

/** What the file-editing commands are told: the zones directory, the pools file, the output form. */
export interface FilesContext {
  zones: string;
  pools?: string;
  json?: boolean;
}

export function poolsFileOf(ctx: FilesContext): string {
  return poolsFileFor(ctx.zones, ctx.pools);
}
