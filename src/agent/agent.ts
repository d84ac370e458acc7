/**
 * The agent loop: every interval, for each member, sample the load sources and run the checks
 * (in parallel, each bounded by a deadline), then publish one report. Checks set the status
 * through rise/fall damping; load sources only fill the load and metrics. Members run on their
 * own: a member whose round is still running skips a tick, and the others carry on. On stop the
 * agent publishes `drain` (or `down`) so lbdns stops sending new clients before the process goes.
 *
 * Capacity: `--capacity` (or the config's) goes into every report and overrides pools.yaml.
 * Without it a report carries no capacity, so the pool's value stands, except for a fraction
 * load source (loadavg, cpu), whose load is expressed in percent of a capacity of 100.
 */
import type { Logger } from "pino";
import { runCheck } from "../health/checks.js";
import type { Report, ReportStatus } from "../health/report.js";
import { RiseFall } from "../health/rise-fall.js";
import type { AgentSpec, CheckSpec, MemberSpec } from "./config.js";
import { isFraction, LoadSampler, metricName, parseLoadSource } from "./load.js";
import type { Publisher } from "./publisher.js";

/** The capacity a fraction load source is scaled to when none is given: load in percent. */
const PERCENT = 100;

class MemberAgent {
  private readonly samplers: LoadSampler[];
  private readonly checks: { spec: CheckSpec; damper: RiseFall }[];
  private lastLoad: number | undefined;
  /** Whether lastLoad came from a fraction source (then it is in percent of capacity 100). */
  private lastFraction = false;
  private lastStatus: ReportStatus | undefined;
  private failing = false;
  private warnedNoLoad = false;
  private round: Promise<void> | null = null;
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

  /**
   * One round for this member; a tick while one runs is skipped (a stop waits for it and then
   * runs its own), so one member's slow checks never delay another's reports.
   */
  tick(override?: ReportStatus): Promise<void> {
    if (this.round) {
      if (override === undefined) return this.round;
      return this.round.then(() => this.tick(override));
    }
    this.round = this.measureAndPublish(override).finally(() => {
      this.round = null;
    });
    return this.round;
  }

  private async measureAndPublish(override?: ReportStatus): Promise<void> {
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
    let fraction = false;
    this.samplers.forEach((s, i) => {
      const v = samples[i];
      if (v === undefined) return;
      metrics[s.metric] = v;
      if (load !== undefined) return;
      fraction = isFraction(s.spec);
      load = fraction ? v * (this.spec.capacity ?? PERCENT) : v;
    });
    const ok = rtts.filter((r): r is number => r !== undefined);
    if (ok.length > 0)
      metrics["rttMs"] = Math.round((ok.reduce((a, b) => a + b, 0) / ok.length) * 1000) / 1000;
    const status: ReportStatus = override ?? (this.checks.some((c) => c.damper.up === false) ? "down" : "up");
    if (load === undefined) {
      load = this.lastLoad;
      fraction = this.lastFraction;
    }
    if (load === undefined) {
      // Never claim load 0 for a server we cannot measure: without a report it simply stays unavailable.
      if (!this.warnedNoLoad)
        this.log.warn({ member: this.spec.member }, "no load source has produced a value yet; not reporting");
      this.warnedNoLoad = true;
      return;
    }
    this.lastLoad = load;
    this.lastFraction = fraction;
    const capacity = this.spec.capacity ?? (fraction ? PERCENT : undefined);
    const report: Report = {
      v: 1,
      member: this.spec.member,
      status,
      load: Math.round(load * 1000) / 1000,
      ...(capacity === undefined ? {} : { capacity }),
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

  /** A round for every member, each on its own (see MemberAgent.tick). */
  tick(override?: ReportStatus): Promise<void> {
    return Promise.all(this.members.map((m) => m.tick(override))).then(() => {});
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
