/**
 * Safe file updates for the editing commands: an exclusive lock per directory (so two commands
 * at once cannot lose an edit) and atomic replacement (temp file in the same directory, fsync,
 * rename, fsync of the directory), so a crash leaves either the old file or the new one.
 */

import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
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
  const mine = `${process.pid} ${randomBytes(12).toString("hex")}\n`;
  for (;;) {
    if (createExclusive(path, mine)) break;
    const held = readLock(path);
    if (held === null) continue; // released between our attempts
    if (isStale(path, held)) {
      takeOver(path, held);
      continue;
    }
    if (Date.now() > deadline)
      throw new LockError(`${path} is held by process ${held.split(" ")[0]?.trim() || "?"}; try again`);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
  }
  try {
    return await fn();
  } finally {
    release(path, mine);
  }
}

/**
 * Creates `path` with `content` only if it does not exist, and whole or not at all: the content
 * is written to a private temp file first, then hard-linked to the name, and link(2) fails when
 * the name exists. False when it exists. (The lock file, and serve's admin token file.)
 */
export function createExclusive(path: string, content: string, mode = 0o644): boolean {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, content, { flag: "wx", mode });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Its process died; or it names no process (an older lbdns's half-written lock) and is old. */
function isStale(path: string, held: string): boolean {
  const pid = Number(held.split(" ")[0]);
  if (Number.isInteger(pid) && pid > 0) return !alive(pid);
  try {
    return Date.now() - statSync(path).mtimeMs > 2_000;
  } catch {
    return false;
  }
}

/**
 * Removes a stale lock without removing a live one: two commands may judge the same lock stale,
 * and the faster one may already hold a new lock by the time the slower one acts. So the lock is
 * moved aside (rename is atomic, only one mover gets it), and only if what was moved is the lock
 * judged stale is it deleted; a live lock moved by mistake is linked back.
 */
function takeOver(path: string, stale: string): void {
  const aside = `${path}.${randomBytes(6).toString("hex")}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  try {
    if (readFileSync(aside, "utf8") !== stale) linkSync(aside, path);
  } catch (e) {
    // EEXIST: a third command took the lock in between; its holder keeps it.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Deletes the lock only while it is still ours. */
function release(path: string, mine: string): void {
  if (readLock(path) === mine) rmSync(path, { force: true });
}

/**
 * Replaces `path` with `text` atomically, keeping the file's mode. The temp file has a random
 * name and is created exclusively (O_EXCL: a planted file or symlink makes it fail, never
 * redirects it). A symlinked file is edited at its target and the link stays.
 */
export function writeAtomic(path: string, text: string): void {
  let target = path;
  let mode = 0o644;
  try {
    target = realpathSync(path);
    mode = statSync(target).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink())
      throw new UserError(`${path} is a symbolic link to a missing file; fix or remove the link`);
  }
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
