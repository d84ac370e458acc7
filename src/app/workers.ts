/**
 * `lbdns serve --workers N`: one primary and N worker processes (node:cluster).
 *
 * Node 20 has no SO_REUSEPORT, so the workers share the primary's sockets: every worker reads
 * from the one UDP socket (the kernel wakes one reader per datagram), and the primary hands TCP
 * connections out in turn. Each worker holds its own copy of the zones, pools and health view:
 * it subscribes to Redis itself, so no report passes through the primary on the way to an
 * answer. Without Redis, reports POSTed to the primary's admin endpoint are relayed to every
 * worker (relayReport).
 *
 * The primary serves the admin endpoint and --metrics (worker metrics summed by prom-client's
 * AggregatorRegistry), forwards SIGHUP, replaces a worker that dies, and on SIGTERM stops the
 * workers (each drains its TCP connections) before it exits.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { HealthTable } from "../health/table.js";

/** Messages between the primary and its workers (IPC). */
type WorkerMessage =
  | { lbdns: "serving"; listen: string[] }
  | { lbdns: "readiness"; ready: boolean; reason: string }
  | { lbdns: "report"; text: string; ageMs?: number };

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === "object" && m !== null && typeof (m as { lbdns?: unknown }).lbdns === "string";
}

export interface WorkerPool {
  /** The listen addresses the workers bound (port 0 resolved). */
  listen: string[];
  relayReport(text: string): void;
  reload(): void;
  /** All workers running and ready. */
  readiness(): { ready: boolean; reason: string };
  /** At least one worker answers DNS: the service is alive (/healthz). */
  serving(): boolean;
  /** Worker metrics, summed (counters, histograms) or taken from one worker (the view's gauges). */
  metrics: { metrics(): Promise<string>; contentType: string };
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
/**
 * Delay before replacing a worker, by how many died in the last minute: at once for the first,
 * then doubling from 250 ms to at most 30 s. A worker that keeps dying is retried ever more
 * slowly, never given up on: DNS must come back when whatever killed it passes.
 */
export function restartDelay(deathsThisMinute: number): number {
  return deathsThisMinute <= 1 ? 0 : Math.min(30_000, 250 * 2 ** (deathsThisMinute - 2));
}

export function startWorkers(count: number, table: HealthTable, log: Logger): Promise<WorkerPool> {
  const aggregator = new AggregatorRegistry();
  const ready = new Map<number, { ready: boolean; reason: string }>();
  let listen: string[] = [];
  let stopping = false;
  const restarts: number[] = [];

  const fork = (): Worker => {
    const worker = cluster.fork({ LBDNS_WORKER: "1" });
    let served = false;
    worker.on("message", (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.lbdns === "serving") {
        listen = m.listen;
        served = true;
        ready.set(worker.id, { ready: false, reason: "starting" });
        // A worker started to replace one that died has missed the reports relayed so far:
        // it gets the primary's view, with each report's age, so nothing looks fresher than it is.
        const now = table.clock();
        for (const [, entry] of table.members()) {
          const text = JSON.stringify(entry.report);
          worker.send({ lbdns: "report", text, ageMs: now - entry.receivedAt } satisfies WorkerMessage);
        }
      } else if (m.lbdns === "readiness") {
        ready.set(worker.id, { ready: m.ready, reason: m.reason });
      }
    });
    worker.on("exit", (code, signal) => {
      ready.delete(worker.id);
      if (stopping) return;
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
      restarts.push(now);
      const delayMs = restartDelay(restarts.length);
      log.error(
        { worker: worker.id, code, signal, diedThisMinute: restarts.length, restartInMs: delayMs },
        served ? "worker died; starting another" : "worker died before serving; starting another",
      );
      const timer = setTimeout(() => {
        if (!stopping) fork();
      }, delayMs);
      timer.unref();
    });
    return worker;
  };

  const each = (send: (w: Worker) => void) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) send(w);
  };
  const killAll = (signal: NodeJS.Signals) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill(signal);
  };
  const pool: WorkerPool = {
    get listen() {
      return listen;
    },
    relayReport: (text) => each((w) => w.send({ lbdns: "report", text } satisfies WorkerMessage)),
    reload: () => killAll("SIGHUP"),
    serving: () => ready.size > 0,
    readiness: () => {
      const states = [...ready.values()];
      if (states.length < count)
        return { ready: false, reason: `${states.length} of ${count} workers running` };
      const waiting = states.find((s) => !s.ready);
      return waiting
        ? { ready: false, reason: `a worker is not ready: ${waiting.reason}` }
        : { ready: true, reason: `ready: ${count} workers` };
    },
    metrics: {
      metrics: () => aggregator.clusterMetrics(),
      get contentType() {
        return aggregator.contentType;
      },
    },
    stop: () => {
      stopping = true;
      const running = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined && !w.isDead(),
      );
      const exited = running.map((w) => new Promise<void>((done) => w.once("exit", () => done())));
      killAll("SIGTERM");
      return Promise.all(exited).then(() => {});
    },
  };

  for (let i = 0; i < count; i++) fork();
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearInterval(check);
      clearTimeout(timer);
      cluster.off("exit", onExit);
      stopping = true;
      killAll("SIGKILL");
      reject(new Error(why));
    };
    const timer = setTimeout(
      () => fail(`workers did not start within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS,
    );
    const onExit = (w: Worker, code: number | null) =>
      fail(`worker ${w.id} exited with code ${code} while starting (see its log above)`);
    cluster.on("exit", onExit);
    const check = setInterval(() => {
      if (ready.size < count) return;
      clearInterval(check);
      clearTimeout(timer);
      cluster.off("exit", onExit);
      resolve(pool);
    }, 20);
  });
}

/** In a worker: tell the primary we serve, keep it told about readiness, and take relayed reports. */
export function joinPrimary(
  listen: string[],
  table: HealthTable,
  readiness: () => { ready: boolean; reason: string },
  registry: Registry,
): () => void {
  // prom-client answers the primary's metric requests from the registries named here.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs that listener in this worker
  const send = (m: WorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  send({ lbdns: "serving", listen });
  let last = "";
  const tell = () => {
    const r = readiness();
    const key = `${r.ready}:${r.reason}`;
    if (key !== last) send({ lbdns: "readiness", ...r });
    last = key;
  };
  tell();
  const timer = setInterval(tell, 500);
  timer.unref();
  process.on("message", (m: unknown) => {
    if (isWorkerMessage(m) && m.lbdns === "report") table.offerText(m.text, "primary", m.ageMs ?? 0);
  });
  return () => clearInterval(timer);
}

export function isWorkerProcess(): boolean {
  return cluster.isWorker && process.env["LBDNS_WORKER"] === "1";
}
