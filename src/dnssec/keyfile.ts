/**
 * A zone's DNSSEC state, in one JSON file beside its zone file (`example.com.zone` ->
 * `example.com.keys`, mode 0600): its keys (PKCS#8 private keys), each key's role, and the step
 * of a rollover or of going insecure. Every lbdns instance that serves the zone reads the same
 * file; the CLI (`lbdns dnssec ...`) is the only writer, one atomic write per step, so a step
 * interrupted at any point leaves the previous state whole. Format: docs/dnssec.md.
 *
 * Roles: `active` signs every RRset; `published` (a rollover's new key) and `retiring` (its old
 * key) are in the DNSKEY RRset and sign only it and CDS/CDNSKEY, so validators holding either
 * DS can follow. CDS/CDNSKEY name the active key, or say DELETE while going insecure (RFC 8078).
 */
import { lstatSync, readFileSync } from "node:fs";
import { z } from "zod";
import { ALGORITHMS, type AlgorithmName, keyFromPem, type SigningKey } from "./key.js";

export const KEYS_SUFFIX = ".keys";
export const DEFAULT_DNSKEY_TTL = 3600;

const keySchema = z.object({
  tag: z.number().int().min(0).max(65535),
  algorithm: z.union([z.literal(13), z.literal(15)]),
  role: z.enum(["active", "published", "retiring"]),
  created: z.string(),
  privateKey: z.string().min(1).max(16_384),
});

const stateSchema = z.object({
  version: z.literal(1),
  zone: z.string(),
  dnskeyTtl: z.number().int().min(0).max(604_800).default(DEFAULT_DNSKEY_TTL),
  keys: z.array(keySchema).min(1).max(4),
  /** The rollover in progress: which step it reached, and when. */
  roll: z
    .object({ step: z.enum(["published", "switched"]), since: z.string() })
    .nullable()
    .default(null),
  /** Going insecure: CDS/CDNSKEY say DELETE since then. */
  disabling: z.object({ since: z.string() }).nullable().default(null),
});

export type KeyRecord = z.infer<typeof keySchema>;
export type KeyState = z.infer<typeof stateSchema>;

export class KeyFileError extends Error {}

export interface LoadedKeys {
  state: KeyState;
  keys: { record: KeyRecord; key: SigningKey }[];
  /** Something the operator should fix (a key file others can read). */
  warning: string | null;
}

export function keysFileFor(zoneFile: string): string {
  return zoneFile.endsWith(".zone") ? `${zoneFile.slice(0, -5)}${KEYS_SUFFIX}` : `${zoneFile}${KEYS_SUFFIX}`;
}

/**
 * Reads and checks a key file. Messages name the file and the field, never a key: the text of
 * a key file must not reach a log.
 */
export function readKeyFile(path: string, text = readFileSync(path, "utf8")): LoadedKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${path}: not valid JSON`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KeyFileError(`${path}: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  const state = parsed.data;
  const keys = state.keys.map((record, i) => {
    let key: SigningKey;
    try {
      key = keyFromPem(record.algorithm, record.privateKey);
    } catch (e) {
      throw new KeyFileError(`${path}: keys.${i}: not a usable private key (${(e as Error).message})`);
    }
    if (key.tag !== record.tag)
      throw new KeyFileError(`${path}: keys.${i}: the key's tag is ${key.tag}, not ${record.tag}`);
    return { record, key };
  });
  if (!keys.some((k) => k.record.role === "active")) throw new KeyFileError(`${path}: no active key`);
  const mode = lstatSync(path, { throwIfNoEntry: false })?.mode ?? 0o600;
  const warning =
    (mode & 0o077) !== 0
      ? `${path} holds private keys but its mode is ${(mode & 0o777).toString(8)}; run chmod 600 ${path}`
      : null;
  return { state, keys, warning };
}

export function serializeKeys(state: KeyState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

export function newKeyRecord(key: SigningKey, role: KeyRecord["role"], now: Date): KeyRecord {
  return {
    tag: key.tag,
    algorithm: key.algorithm as 13 | 15,
    role,
    created: now.toISOString(),
    privateKey: key.exportPem(),
  };
}

export function algorithmName(code: number): AlgorithmName | `algorithm ${number}` {
  for (const [name, c] of Object.entries(ALGORITHMS)) if (c === code) return name as AlgorithmName;
  return `algorithm ${code}`;
}
