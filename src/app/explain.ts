/**
 * `lbdns explain`: the answer lbdns would give now for a name and type (and client), and why.
 * It runs the server's own routing (server/resolve.ts) without side effects, so the answer shown
 * is the one the next such query would get; for a pool name it adds every member with its reason
 * (available, stale, shed, drained...) and its share of answers.
 */
import { UserError } from "../lib/errors.js";
import { clientOf } from "../pools/client.js";
import type { ClientChoice, MemberView } from "../pools/pool.js";
import type { Query } from "../proto/decode.js";
import { keyOf, parseName, presentName, toWire } from "../proto/name.js";
import { rcodeName } from "../proto/rcode.js";
import { formatRdata, readWireName } from "../proto/rdata.js";
import { type EncodedSections, encodedRecords } from "../proto/sections.js";
import { CLASS_IN, typeCode, typeName } from "../proto/types.js";
import type { Resolver } from "../server/resolve.js";

export class ExplainError extends UserError {}

export interface Explanation {
  name: string;
  type: string;
  rcode: string;
  from: string;
  /** The pool that answers, if one does. */
  pool?: string;
  source?: string | null;
  policy?: string;
  members?: MemberView[];
  client?: { ip: string; depends: boolean } & Partial<ClientChoice>;
  answer: string[];
  authority: string[];
  additional: string[];
}

/** Presentation lines of encoded sections, as a response to a question for `qname` carries them. */
export function sectionLines(
  s: EncodedSections,
  qname: Buffer,
): { answer: string[]; authority: string[]; additional: string[] } {
  const out = { answer: [] as string[], authority: [] as string[], additional: [] as string[] };
  for (const rr of encodedRecords(s, qname)) {
    const owner = presentName(readWireName(rr.owner, 0));
    out[rr.section].push(`${owner}\t${rr.ttl}\tIN\t${typeName(rr.type)}\t${formatRdata(rr.type, rr.rdata)}`);
  }
  return out;
}

export function explain(resolver: Resolver, name: string, typeText = "A", clientIp?: string): Explanation {
  let key: string;
  let qname: string;
  let wire: Buffer;
  try {
    const labels = parseName(name.endsWith(".") ? name : `${name}.`, null);
    key = keyOf(labels);
    qname = presentName(labels);
    wire = toWire(labels);
  } catch (e) {
    throw new ExplainError((e as Error).message);
  }
  const qtype = typeCode(typeText);
  if (qtype === undefined) throw new ExplainError(`'${typeText}' is not a record type`);
  const client = clientIp === undefined ? null : clientOf(null, clientIp);
  if (clientIp !== undefined && client === null) throw new ExplainError(`'${clientIp}' is not an IP address`);
  const query: Query = {
    id: 0,
    flags: 0,
    opcode: 0,
    qname: key,
    qtype,
    qclass: CLASS_IN,
    questionEnd: 12,
    edns: null,
  };
  // The resolution is the resolver's reused object: read everything from it before returning.
  const r = resolver.resolve(query, clientIp, false);
  const lines = sectionLines(r.sections, wire);
  const choice = client !== null && r.pool !== null ? r.pool.choiceFor(qtype, client) : null;
  const clientPart =
    clientIp === undefined
      ? {}
      : {
          client:
            choice === null ? { ip: clientIp, depends: false } : { ip: clientIp, depends: true, ...choice },
        };
  if (r.pool !== null) {
    const status = r.pool.status(qtype);
    return {
      name: qname,
      type: typeName(qtype),
      rcode: rcodeName(r.rcode),
      from: `pool '${r.pool.name}'`,
      pool: r.pool.name,
      source: status.source,
      policy: status.policy,
      members: status.members,
      ...clientPart,
      ...lines,
    };
  }
  const zone = r.result?.zone;
  return {
    name: qname,
    type: typeName(qtype),
    rcode: rcodeName(r.rcode),
    from: zone ? `zone ${presentName(zone.origin)} (${r.result!.kind})` : "no zone (refused)",
    ...clientPart,
    ...lines,
  };
}
