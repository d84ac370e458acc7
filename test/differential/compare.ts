/**
 * The differential run: the same queries to NSD, Knot and lbdns, each response normalized
 * (wire.ts), and a verdict per query. Where NSD and Knot disagree the query says nothing about
 * lbdns and is only counted; where they agree, lbdns must give the same response unless a listed
 * difference (known.ts) explains it. Responses truncated over UDP are asked again over TCP.
 */
import { askTcp, askUdp } from "./send.js";
import { describeQuery, type Message, type QuerySpec, readMessage, writeQuery } from "./wire.js";

export type ServerName = "nsd" | "knot" | "lbdns";
export type Ports = Record<ServerName, number>;

export interface Difference {
  query: QuerySpec;
  transport: "udp" | "tcp";
  peers: Message;
  lbdns: Message | null;
  /** The known difference that explains it, if any. */
  known?: string;
}

export interface Outcome {
  queries: number;
  /** Queries where NSD and Knot gave the same response. */
  agreed: number;
  /** ... and lbdns gave it too. */
  matched: number;
  /** Queries where the peers disagree and docs/zones.md names the peer lbdns follows... */
  chosen: number;
  /** ... and lbdns gave that peer's response. */
  chosenMatched: number;
  differences: Difference[];
}

/** One response as comparable text: rcode, flags, OPT, and each section as a sorted set. */
export function normalized(m: Message | null): string {
  if (m === null) return "(no response)";
  const flags = (["aa", "tc", "rd", "ra", "z", "ad", "cd"] as const).filter((f) => m[f]).join(" ");
  const opt = m.opt
    ? `edns${m.opt.version}${m.opt.do ? " do" : ""} options=[${m.opt.options.join(",")}]`
    : "no OPT";
  const section = (title: string, rrs: string[]) =>
    rrs.length ? `${title}:\n  ${[...rrs].sort().join("\n  ")}` : "";
  return [
    `rcode ${m.rcode} opcode ${m.opcode} flags [${flags}] ${opt}`,
    `question ${m.question ?? "-"}`,
    section("answer", m.answer),
    section("authority", m.authority),
    section("additional", m.additional),
  ]
    .filter(Boolean)
    .join("\n");
}

function read(buf: Buffer | null): Message | null {
  if (buf === null) return null;
  try {
    return readMessage(buf);
  } catch (e) {
    return { ...EMPTY, question: `unreadable response: ${(e as Error).message}` };
  }
}

/** Stands in for a query asked over TCP in the UDP batch: too short to be answered. */
const EMPTY_QUERY = Buffer.alloc(2);

const EMPTY: Message = {
  id: 0,
  qr: true,
  opcode: 0,
  aa: false,
  tc: false,
  rd: false,
  ra: false,
  z: false,
  ad: false,
  cd: false,
  rcode: -1,
  question: null,
  answer: [],
  authority: [],
  additional: [],
  opt: null,
  size: 0,
};

export async function compare(
  ports: Ports,
  queries: readonly QuerySpec[],
  known: (q: QuerySpec, peers: Message, lbdns: Message | null) => string | null,
  /** Where the peers disagree: the one lbdns follows for this query, if docs/zones.md names one. */
  follows: (q: QuerySpec) => "nsd" | "knot" | null = () => null,
): Promise<Outcome> {
  const wire = queries.map((q, i) => writeQuery(q, i & 0xffff));
  const udp = wire.map((w, i) => (queries[i]!.tcp ? EMPTY_QUERY : w));
  // Responses are parsed only once every server has answered: parsing a whole batch blocks the
  // event loop for seconds on a loaded machine, and a TCP exchange of another server waiting
  // behind it would see its timer fire before its (already arrived) answer is read.
  const raw = await Promise.all(
    (["nsd", "knot", "lbdns"] as const).map(async (s) => {
      const out = await askUdp(ports[s], udp);
      for (let i = 0; i < queries.length; i++) if (queries[i]!.tcp) out[i] = await askTcp(ports[s], wire[i]!);
      return out;
    }),
  );
  const [nsd, knot, lbdns] = raw.map((r) => r.map(read));
  const out: Outcome = { queries: 0, agreed: 0, matched: 0, chosen: 0, chosenMatched: 0, differences: [] };
  const judge = (
    q: QuerySpec,
    transport: "udp" | "tcp",
    n: Message | null,
    k: Message | null,
    l: Message | null,
  ) => {
    out.queries++;
    const peers = normalized(n);
    if (n === null || k === null) return;
    if (peers !== normalized(k)) {
      const side = follows(q);
      if (side === null) return;
      out.chosen++;
      const want = side === "knot" ? k : n;
      if (normalized(l) === normalized(want)) out.chosenMatched++;
      else out.differences.push({ query: q, transport, peers: want, lbdns: l });
      return;
    }
    out.agreed++;
    if (normalized(l) === peers) {
      out.matched++;
      return;
    }
    const why = known(q, n, l);
    out.differences.push({ query: q, transport, peers: n, lbdns: l, ...(why ? { known: why } : {}) });
  };
  const retcp: number[] = [];
  queries.forEach((q, i) => {
    judge(q, q.tcp ? "tcp" : "udp", nsd![i]!, knot![i]!, lbdns![i]!);
    if (!q.tcp && (nsd![i]?.tc || knot![i]?.tc || lbdns![i]?.tc)) retcp.push(i);
  });
  for (const i of retcp) {
    const [n, k, l] = await Promise.all(
      (["nsd", "knot", "lbdns"] as const).map((s) => askTcp(ports[s], wire[i]!)),
    );
    judge(queries[i]!, "tcp", read(n!), read(k!), read(l!));
  }
  return out;
}

/** A difference as a report: the query, then what the peers said and what lbdns said. */
export function explainDifference(d: Difference): string {
  return [
    `${describeQuery(d.query)} (${d.transport})${d.known ? ` [known: ${d.known}]` : ""}`,
    "NSD and Knot:",
    `  ${normalized(d.peers).replaceAll("\n", "\n  ")}`,
    "lbdns:",
    `  ${normalized(d.lbdns).replaceAll("\n", "\n  ")}`,
  ].join("\n");
}
