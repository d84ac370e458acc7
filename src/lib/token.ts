/**
 * The admin endpoint's bearer token, shared through a file so the default posture is "a token is
 * required" without the operator typing one: `serve` creates a random token in the file (mode 0600,
 * O_EXCL) or reuses the one there, and the client commands (`report`, `status`, `explain`, `agent`
 * with --server) read the same file. Only someone who can read the file can post reports.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { UserError } from "./errors.js";
import { createExclusive } from "./files.js";

export const DEFAULT_TOKEN_FILE = "zones/.admin-token";

/** A usable token: non-blank, no white space inside (it travels in an HTTP header). */
export function checkToken(token: string, where: string): string {
  const t = token.trim();
  if (t === "" || /\s/.test(t)) throw new UserError(`${where}: a token must be non-blank, without spaces`);
  return t;
}

function readToken(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UserError(`cannot read the admin token file ${path}: ${(e as Error).message}`, 1);
  }
  return checkToken(text, path);
}

/** The server's token: the one in `path`, else a new random one written there. */
export function serverToken(path: string): string {
  const existing = readToken(path);
  if (existing !== null) return existing;
  const token = randomBytes(24).toString("hex");
  try {
    // Whole or not at all, so another instance starting at once never reads a half-written file.
    if (!createExclusive(path, `${token}\n`, 0o600)) return serverToken(path); // theirs, then
  } catch (e) {
    throw new UserError(
      `cannot create the admin token file ${path}: ${(e as Error).message} (give --admin-token-file PATH, --admin-token, or --admin off)`,
      1,
    );
  }
  return token;
}

/** A client's token: --token (or $LBDNS_ADMIN_TOKEN), else the token file if there is one. */
export function clientToken(token: string | undefined, file: string): string | undefined {
  if (token !== undefined) return checkToken(token, "--token");
  return readToken(file) ?? undefined;
}
