/**
 * Safe file updates for the editing commands: an exclusive lock per directory (so two commands
 * at once cannot lose an edit) and atomic replacement (temp file in the same directory, fsync,
 * rename, fsync of the directory), so a crash leaves either the old file or the new one.
 */

import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { UserError } from "./errors.js";

/** Another command holds the lock past the wait: a runtime failure (exit 1), not bad input. */
export class LockError extends UserError {
  constructor(message: string) {
    super(message, 1);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding `<dir>/.lbdns.lock`; waits up to `timeoutMs` for another holder. */
export async function withLock<T>(dir: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const path = join(dir, ".lbdns.lock");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder = Number.NaN;
      let age = 0;
      try {
        holder = Number(readFileSync(path, "utf8").trim() || Number.NaN);
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // released between our attempts
      }
      // Stale: its process died, or it never got a pid (killed right after creating it). A lock
      // still being written (no pid yet, just created) is not.
      if ((Number.isInteger(holder) && !alive(holder)) || (Number.isNaN(holder) && age > 2_000)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LockError(`${path} is held by process ${holder}; try again`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** Replaces `path` with `text` atomically, keeping the file's mode. */
export function writeAtomic(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // new file
  }
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
