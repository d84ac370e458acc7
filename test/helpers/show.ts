import { keyOf } from "../../src/proto/name.js";
import { readWireName } from "../../src/proto/rdata.js";
import type { RR } from "../../src/proto/sections.js";
import { T, typeName } from "../../src/proto/types.js";
import type { LookupResult } from "../../src/zone/lookup.js";

/** One line per RR: "owner TTL TYPE data", owner "@q" for the query name. */
export function rrText(rr: RR): string {
  const owner = rr.owner === null ? "@q" : keyOf(readWireName(rr.owner, 0));
  let data: string;
  if (rr.type === T.A) data = [...rr.rdata].join(".");
  else if (rr.type === T.NS || rr.type === T.CNAME || rr.type === T.DNAME)
    data = keyOf(readWireName(rr.rdata, 0));
  else if (rr.type === T.MX) data = `${rr.rdata.readUInt16BE(0)} ${keyOf(readWireName(rr.rdata, 2))}`;
  else if (rr.type === T.TXT) data = rr.rdata.subarray(1).toString("latin1");
  else data = rr.rdata.toString("hex");
  return `${owner} ${rr.ttl} ${typeName(rr.type)} ${data}`;
}

export function show(r: LookupResult) {
  return {
    kind: r.kind,
    rcode: r.rcode,
    aa: r.aa,
    answer: r.answer.map(rrText),
    authority: r.authority.map(rrText),
    additional: r.additional.map(rrText),
  };
}
