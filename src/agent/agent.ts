/**
 * The agent loop: every interval, for each member, sample the load sources and run the checks
 * (in parallel, each bounded by its timeout), then publish one report. Checks set the status
 * through rise/fall damping; load sources only fill the load and metrics. On stop the agent
 * publishes `drain` (or `down`) so lbdns stops sending new clients before the process goes.
 */
import type { Logger } from "pino";
import { runCheck } from "../health/checks.js";
import type { Report, ReportStatus } from "../health/report.js";
import { RiseFall } from "../health/rise-fall.js";
import type { AgentSpec, CheckSpec, MemberSpec } from "./config.js";
import { isFraction, LoadSampler, metricName, parseLoadSource } from "./load.js";
import type { Publisher } from "./publisher.js";

const DEFAULT_CAPACITY = 100;

class MemberAgent {
  private readonly samplers: LoadSampler[];
  private readonly checks: { spec: CheckSpec; damper: RiseFall }[];
  private lastLoad: number | undefined;
  private lastStatus: ReportStatus | undefined;
  private failing = false;
  private warnedNoLoad = false;
  published = 0;

  constructor(
    readonly spec: MemberSpec,
    private readonly agent: AgentSpec,
    private readonly publisher: Publisher,
    private readonly log: Logger,
  ) {
    const taken = new Set<string>();
    this.samplers = spec.loads.map((l) => {
      const s = parseLoadSource(l);
      return new LoadSampler(s, metricName(s, taken), agent.timeoutMs);
    });
    this.checks = spec.checks.map((c) => ({ spec: c, damper: new RiseFall(agent.rise, agent.fall) }));
  }

  private get capacity(): number {
    return this.spec.capacity ?? DEFAULT_CAPACITY;
  }

  async tick(override?: ReportStatus): Promise<void> {
    const [samples, rtts] = await Promise.all([
      Promise.all(this.samplers.map((s) => s.sample())),
      Promise.all(
        this.checks.map(async (c) => {
          try {
            const rtt = await runCheck(c.spec.target);
            c.damper.record(true);
            return rtt;
          } catch (e) {
            if (c.damper.record(false) || c.damper.up === false)
              this.log.debug(
                { member: this.spec.member, check: c.spec.text, reason: (e as Error).message },
                "check failed",
              );
            return undefined;
          }
        }),
      ),
    ]);
    const metrics: Record<string, number> = {};
    let load: number | undefined;
    this.samplers.forEach((s, i) => {
      const v = samples[i];
      if (v === undefined) return;
      metrics[s.metric] = v;
      load ??= isFraction(s.spec) ? v * this.capacity : v;
    });
    const ok = rtts.filter((r): r is number => r !== undefined);
    if (ok.length > 0)
      metrics["rttMs"] = Math.round((ok.reduce((a, b) => a + b, 0) / ok.length) * 1000) / 1000;
    const status: ReportStatus = override ?? (this.checks.some((c) => c.damper.up === false) ? "down" : "up");
    load ??= this.lastLoad;
    if (load === undefined) {
      // Never claim load 0 for a server we cannot measure: without a report it simply stays unavailable.
      if (!this.warnedNoLoad)
        this.log.warn({ member: this.spec.member }, "no load source has produced a value yet; not reporting");
      this.warnedNoLoad = true;
      return;
    }
    this.lastLoad = load;
    const report: Report = {
      v: 1,
      member: this.spec.member,
      status,
      load: Math.round(load * 1000) / 1000,
      capacity: this.capacity,
      ts: Date.now(),
      interval: this.agent.intervalMs,
      metrics,
    };
    if (status !== this.lastStatus)
      this.log.info({ member: this.spec.member, status, from: this.lastStatus ?? null }, "member status");
    this.lastStatus = status;
    try {
      await this.publisher.publish(report, this.agent.expiryMs);
      this.published++;
      if (this.failing) this.log.info({ member: this.spec.member }, "reports are being delivered again");
      this.failing = false;
    } catch (e) {
      if (!this.failing)
        this.log.error({ member: this.spec.member, err: (e as Error).message }, "could not deliver report");
      this.failing = true;
    }
  }
}

export class Agent {
  private readonly members: MemberAgent[];
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly spec: AgentSpec,
    private readonly publisher: Publisher,
    private readonly log: Logger,
  ) {
    this.members = spec.members.map((m) => new MemberAgent(m, spec, publisher, log));
  }

  start(): void {
    this.log.info(
      {
        members: this.spec.members.map((m) => m.member),
        intervalMs: this.spec.intervalMs,
        to: this.spec.redis ? "redis" : "server",
      },
      "lbdns agent started",
    );
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.spec.intervalMs);
  }

  /**
   * One round for every member. An interval tick that finds a round still running is skipped, so
   * slow checks never pile up; the final (stop) round always runs, after the current one.
   */
  tick(override?: ReportStatus): Promise<void> {
    if (this.busy && override === undefined) return this.round;
    this.round = this.round.then(async () => {
      this.busy = true;
      try {
        await Promise.all(this.members.map((m) => m.tick(override)));
      } finally {
        this.busy = false;
      }
    });
    return this.round;
  }

  publishedCount(): number {
    return this.members.reduce((n, m) => n + m.published, 0);
  }

  /** Publishes the exit status (drain or down), waits the drain grace, and closes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tick(this.spec.onExit);
    this.log.info({ status: this.spec.onExit, graceMs: this.spec.drainGraceMs }, "lbdns agent stopping");
    if (this.spec.drainGraceMs > 0) await new Promise((r) => setTimeout(r, this.spec.drainGraceMs));
    await this.publisher.close();
  }
}
