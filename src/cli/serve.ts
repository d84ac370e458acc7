/** `lbdns serve`: load zones, bind UDP+TCP, reload on SIGHUP, stop cleanly on SIGTERM/SIGINT. */
import { existsSync, statSync } from "node:fs";
import { type ListenAddress, parseListen } from "../dns/listen.js";
import { Responder } from "../dns/responder.js";
import { DEFAULT_SERVER_OPTIONS, DnsServer } from "../dns/server.js";
import { createLogger, type Logger } from "../ops/logger.js";
import { buildZoneSet, type ZoneReloadReport } from "../ops/reload.js";
import { displayName } from "../zone/name.js";
import { typeName } from "../zone/types.js";
import { CliError } from "./errors.js";

export interface ServeOptions {
  zones: string;
  listen: string[];
  logQueries: boolean;
  logLevel?: string;
  tcpIdleTimeout: number;
  tcpMaxConnections: number;
}

export async function serve(opts: ServeOptions): Promise<void> {
  if (!existsSync(opts.zones) || !statSync(opts.zones).isDirectory()) {
    throw new CliError(`zones directory '${opts.zones}' does not exist`);
  }
  const listens: ListenAddress[] = opts.listen.map((l) => {
    try {
      return parseListen(l);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  });
  const log = createLogger(opts.logLevel);
  const { zones, report } = buildZoneSet(opts.zones, null);
  logReport(log, report, "zones loaded");

  const observer = opts.logQueries
    ? (q: { qname: string; qtype: number }, rcode: number, transport: string) =>
        log.info({ qname: displayName(q.qname), qtype: typeName(q.qtype), rcode, transport }, "query")
    : null;
  const responder = new Responder(zones, observer, (err) => log.error({ err }, "error answering a query"));
  const server = new DnsServer(
    responder,
    {
      ...DEFAULT_SERVER_OPTIONS,
      idleTimeoutMs: opts.tcpIdleTimeout,
      maxConnections: opts.tcpMaxConnections,
    },
    (err) => log.error({ err }, "socket error"),
  );
  let bound: Awaited<ReturnType<DnsServer["start"]>>;
  try {
    bound = await server.start(listens);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === "EACCES" ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "";
    throw new CliError(`cannot listen: ${err.message}${hint}`);
  }
  log.info(
    { listen: bound.map((b) => b.text), zones: zones.zones.size, records: report.records },
    "lbdns serving",
  );

  process.on("SIGHUP", () => {
    try {
      const next = buildZoneSet(opts.zones, responder.zoneSet);
      responder.setZones(next.zones);
      logReport(log, next.report, "zones reloaded");
    } catch (err) {
      log.error({ err }, "reload failed; keeping the current zones");
    }
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "lbdns stopping");
    server.stop().then(
      () => {
        log.info("lbdns stopped");
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function logReport(log: Logger, report: ZoneReloadReport, msg: string): void {
  for (const e of report.errors) log.error({ file: e.file }, e.message);
  for (const w of report.warnings) log.warn({ file: w.file, line: w.line }, w.reason);
  log.info(
    {
      added: report.added,
      removed: report.removed,
      changed: report.changed,
      kept: report.kept,
      failed: report.errors.length,
      records: report.records,
    },
    msg,
  );
}
