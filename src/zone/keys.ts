/**
 * A zone signed online gets its keys at load: the key file beside the zone file
 * (dnssec/keyfile.ts) adds the DNSKEY, CDS and CDNSKEY RRsets to the apex, as if the zone file
 * held them (so DO=0 queries see them too), and a signer for DO=1 answers (signed.ts). A zone
 * file that is already signed cannot also be signed online.
 */
import { statSync } from "node:fs";
import { KeyFileError, keysFileFor, type LoadedKeys, readKeyFile } from "../dnssec/keyfile.js";
import { type Clock, ZoneSigner } from "../dnssec/signer.js";
import { toWire } from "../proto/name.js";
import { T } from "../proto/types.js";
import type { ZoneRecord } from "./masterfile.js";
import { PresignedAnswers } from "./presigned.js";
import { ZoneSigning } from "./signed.js";
import { type FileStamp, sameStamp, stampOf, type Zone, ZoneError } from "./zone.js";

/** CDS and CDNSKEY that ask the parent to remove its DS (RFC 8078 §4). */
const CDS_DELETE = Buffer.from([0, 0, 0, 0, 0]);
const CDNSKEY_DELETE = Buffer.from([0, 0, 3, 0, 0]);

export interface ZoneKeys {
  file: string;
  loaded: LoadedKeys | null;
  /** The key file as read, or marked absent (ino -1), so a reload notices it appear or change. */
  stamp: FileStamp;
}

/** The key file of a zone file, if it has one; throws ZoneError for a file that cannot be used. */
export function zoneKeys(zoneFile: string): ZoneKeys {
  const file = keysFileFor(zoneFile);
  const st = statSync(file, { throwIfNoEntry: false });
  const stamp = stampOf(file, st);
  if (st === undefined) return { file, loaded: null, stamp };
  try {
    return { file, loaded: readKeyFile(file), stamp };
  } catch (e) {
    if (e instanceof KeyFileError) throw new ZoneError(e.message);
    if (e instanceof Error && "code" in e) throw new ZoneError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The apex records the keys add: DNSKEY (every key), CDS and CDNSKEY (the active key, or DELETE). */
export function* keyRecords(keys: ZoneKeys, origin: Buffer[], originKey: string): Generator<ZoneRecord> {
  const loaded = keys.loaded;
  if (loaded === null) return;
  const ttl = loaded.state.dnskeyTtl;
  const rec = (type: number, rdata: Buffer): ZoneRecord => ({
    owner: origin,
    key: originKey,
    type,
    ttl,
    rdata,
    file: keys.file,
    line: 0,
    endLine: 0,
  });
  const apex = toWire(origin);
  for (const { key } of loaded.keys) yield rec(T.DNSKEY, key.dnskey);
  if (loaded.state.disabling !== null) {
    yield rec(T.CDS, CDS_DELETE);
    yield rec(T.CDNSKEY, CDNSKEY_DELETE);
    return;
  }
  for (const { key, record } of loaded.keys) {
    if (record.role !== "active") continue;
    yield rec(T.CDS, key.ds(apex));
    yield rec(T.CDNSKEY, key.dnskey);
  }
}

/**
 * Gives a built zone its signer; a zone file with its own signatures cannot be signed online.
 * A new version of a zone whose key file is unchanged keeps the previous version's signer, so
 * its signatures (kept by the RRsets they cover) survive a zone edit.
 */
export function attachSigner(zone: Zone, keys: ZoneKeys, previous?: Zone, clock?: Clock): void {
  zone.sources = [...zone.sources, keys.stamp];
  const loaded = keys.loaded;
  if (loaded === null) {
    if (zone.signed) zone.dnssec = new PresignedAnswers(zone);
    return;
  }
  if (zone.apex.has(T.RRSIG))
    throw new ZoneError(
      `${zone.file}: the zone file is already signed (it has RRSIG records), so it cannot also be signed online with ${keys.file}; remove one of them`,
    );
  if (loaded.warning !== null) zone.warnings.push({ file: keys.file, line: 0, reason: loaded.warning });
  const data = loaded.keys.filter((k) => k.record.role === "active").map((k) => k.key);
  const keyset = loaded.keys.map((k) => k.key);
  const before = previous?.dnssec instanceof ZoneSigning ? previous.dnssec.signer : undefined;
  const stamp = previous?.sources.find((x) => x.path === keys.file);
  const same = before !== undefined && stamp !== undefined && sameStamp(stamp, keys.stamp);
  const signer = same ? before : new ZoneSigner(zone.apex.wire, { data, keyset }, clock);
  zone.dnssec = new ZoneSigning(zone, signer);
}
