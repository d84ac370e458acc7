/**
 * Damps flapping: the state flips up after `rise` consecutive successes and down after `fall`
 * consecutive failures. The first result sets the initial state, so a fresh start is not held
 * down for `rise` intervals.
 */
export class RiseFall {
  up: boolean | null = null;
  private streak = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {}

  /** Records one result; returns true when the state flipped (or was first set). */
  record(ok: boolean): boolean {
    if (this.up === null) {
      this.up = ok;
      return true;
    }
    if (ok === this.up) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < (ok ? this.rise : this.fall)) return false;
    this.up = ok;
    this.streak = 0;
    return true;
  }
}
