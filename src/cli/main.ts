#!/usr/bin/env node
/** `lbdns` command line (commander). */
import { Command, InvalidArgumentError, Option } from "commander";
import { CliError } from "./errors.js";
import { serve } from "./serve.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return previous ? [...previous, value] : [value];
}

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(value);
  };
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
    .option("--log-queries", "log every query (off by default: it costs throughput)", false)
    .option("--log-level <level>", "pino log level: fatal, error, warn, info, debug, trace")
    .option(
      "--tcp-idle-timeout <ms>",
      "close idle TCP connections after this long",
      positiveInt("--tcp-idle-timeout"),
      10_000,
    )
    .option(
      "--tcp-max-connections <n>",
      "open TCP connections at most",
      positiveInt("--tcp-max-connections"),
      1_000,
    )
    .action(async (opts) => {
      await serve({
        zones: opts.zones,
        listen: opts.listen ?? ["127.0.0.1:5300"],
        logQueries: opts.logQueries,
        logLevel: opts.logLevel,
        tcpIdleTimeout: opts.tcpIdleTimeout,
        tcpMaxConnections: opts.tcpMaxConnections,
      });
    });
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
