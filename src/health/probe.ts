/**
 * Built-in probes (`check:` in pools.yaml), run by the server off the query path. A member's
 * probe state flips up after `rise` consecutive successes and down after `fall` consecutive
 * failures, so one lost probe does not flap the answer. The first result sets the initial state.
 */
import type { Logger } from "pino";
import { type CheckTarget, runCheck } from "./checks.js";
import { RiseFall } from "./rise-fall.js";

export interface ProbeSpec extends CheckTarget {
  member: string;
  intervalMs: number;
  rise: number;
  fall: number;
}

export interface ProbeState {
  up: boolean | null;
  rttMs: number | null;
  lastError: string | null;
}

class Probe {
  state: ProbeState = { up: null, rttMs: null, lastError: null };
  private readonly damper: RiseFall;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    readonly spec: ProbeSpec,
    private readonly onFlip: (member: string) => void,
    private readonly log: Logger,
  ) {
    this.damper = new RiseFall(spec.rise, spec.fall);
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.spec.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let ok: boolean;
    try {
      this.state.rttMs = await runCheck(this.spec);
      this.state.lastError = null;
      ok = true;
    } catch (e) {
      this.state.lastError = (e as Error).message;
      ok = false;
    } finally {
      this.running = false;
    }
    if (!this.damper.record(ok)) return;
    this.state.up = this.damper.up;
    this.log.info(
      { member: this.spec.member, up: ok, reason: this.state.lastError ?? undefined },
      "probe state changed",
    );
    this.onFlip(this.spec.member);
  }
}

/** Keeps one probe per member, reconciled with the configuration on every (re)load. */
export class ProbeSet {
  private readonly probes = new Map<string, Probe>();

  constructor(
    private readonly onFlip: (member: string) => void,
    private readonly log: Logger,
  ) {}

  get(member: string): ProbeState | undefined {
    return this.probes.get(member)?.state;
  }

  reconcile(specs: readonly ProbeSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.member, s]));
    for (const [member, probe] of this.probes) {
      const spec = wanted.get(member);
      if (!spec || JSON.stringify(spec) !== JSON.stringify(probe.spec)) {
        probe.stop();
        this.probes.delete(member);
      }
    }
    for (const spec of specs) {
      if (this.probes.has(spec.member)) continue;
      const probe = new Probe(spec, (m) => this.onFlip(m), this.log);
      this.probes.set(spec.member, probe);
      probe.start();
    }
  }

  stop(): void {
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
  }
}
