/**
 * DNS cookies (RFC 7873), with server cookies made as RFC 9018 §4 says, so every instance of a
 * fleet that shares the secret (lbdns, BIND or Knot alike) accepts the others' cookies.
 *
 * Server Cookie = Version 1 | Reserved (3) | Timestamp (4, seconds) | Hash (8), where Hash is
 * SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client IP) under the 16-octet
 * secret. A cookie is valid for an hour (and 5 minutes ahead, for clock skew); a valid one less
 * than half an hour old is echoed, else a new one is made. A previous secret is still accepted,
 * so the secret can be rotated without a flag day. lbdns does not demand cookies: a client
 * without one is answered as before; one with a valid cookie passes rate limiting.
 */
import { randomBytes } from "node:crypto";
import ipaddr from "ipaddr.js";
import { siphash24 } from "../lib/siphash.js";

const COOKIE_OPTION = 10;
const LIFETIME_S = 3600;
const SKEW_S = 300;
const REFRESH_S = 1800;

export interface CookieSecrets {
  current: Buffer;
  /** Accepted, never used for new cookies: the secret before the last rotation. */
  previous: Buffer | null;
}

export function randomSecret(): Buffer {
  return randomBytes(16);
}

/** A secret as operators write it: 32 hex digits. */
export function parseSecret(text: string): Buffer | null {
  return /^[0-9a-fA-F]{32}$/.test(text) ? Buffer.from(text, "hex") : null;
}

export interface CookieReply {
  /** The COOKIE option for the response. */
  option: Buffer;
  /** The query carried a valid server cookie. */
  valid: boolean;
}

export class CookieJar {
  private readonly input = Buffer.alloc(8 + 8 + 16);

  constructor(
    private readonly secrets: CookieSecrets,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /**
   * The reply to the COOKIE option at `at` (its data, `length` octets, already checked to be 8
   * or 16 to 40) of `query`, from the client at `remote`; null when the address is not an IP.
   */
  reply(query: Buffer, at: number, length: number, remote: string | undefined): CookieReply | null {
    const ip = addressOf(remote);
    if (ip === null) return null;
    const now = this.now();
    let valid = false;
    let echo = false;
    if (length === 24 && query[at + 8] === 1) {
      const ts = query.readUInt32BE(at + 12);
      const age = now - ts;
      if (age <= LIFETIME_S && age >= -SKEW_S) {
        for (const secret of [this.secrets.current, this.secrets.previous]) {
          if (secret === null) continue;
          if (
            this.hash(query, at, query.subarray(at + 8, at + 16), ip, secret).equals(
              query.subarray(at + 16, at + 24),
            )
          ) {
            valid = true;
            echo = secret === this.secrets.current && age < REFRESH_S;
            break;
          }
        }
      }
    }
    const option = Buffer.alloc(4 + 24);
    option.writeUInt16BE(COOKIE_OPTION, 0);
    option.writeUInt16BE(24, 2);
    query.copy(option, 4, at, at + 8);
    if (echo) query.copy(option, 12, at + 8, at + 24);
    else {
      option[12] = 1; // version 1, reserved 0
      option.writeUInt32BE(now >>> 0, 16);
      this.hash(query, at, option.subarray(12, 20), ip, this.secrets.current).copy(option, 20);
    }
    return { option, valid };
  }

  /** The RFC 9018 hash of the client cookie (at `at` in `query`), the server cookie's head and the IP. */
  private hash(query: Buffer, at: number, head: Buffer, ip: Buffer, secret: Buffer): Buffer {
    const input = this.input;
    query.copy(input, 0, at, at + 8);
    head.copy(input, 8, 0, 8);
    ip.copy(input, 16);
    return siphash24(secret, input.subarray(0, 16 + ip.length));
  }
}

function addressOf(remote: string | undefined): Buffer | null {
  if (!remote || !ipaddr.isValid(remote)) return null;
  let addr = ipaddr.parse(remote);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  return Buffer.from(addr.toByteArray());
}
