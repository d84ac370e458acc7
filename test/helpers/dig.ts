/** Real `dig` against a test server, with its +yaml output parsed. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parse } from "yaml";

const run = promisify(execFile);

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  question: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  edns: {
    version: number;
    udp: number;
    flags: string;
    clientSubnet?: string;
    ede?: string;
    nsid?: string;
  } | null;
  protocol: string;
  size: number;
}

function records(lines: string[] | undefined): DigRecord[] {
  return (lines ?? []).map((line) => {
    const [name, ttl, , type, ...data] = line.split(/\s+/);
    return { name: name!, ttl: Number(ttl), type: type!, data: data.join(" ") };
  });
}

export async function dig(port: number, args: string[], server = "127.0.0.1"): Promise<DigResult> {
  const { stdout } = await run(
    "dig",
    [`@${server}`, "-p", String(port), "+yaml", "+tries=1", "+time=3", ...args],
    {
      timeout: 15_000,
    },
  );
  const docs = parse(stdout) as { message: Record<string, unknown> }[];
  const doc = docs.find((d) => d?.message?.["response_message_data"]);
  if (!doc) throw new Error(`dig gave no response:\n${stdout}`);
  const m = doc.message["response_message_data"] as Record<string, unknown>;
  const opt = (m["OPT_PSEUDOSECTION"] as { EDNS?: Record<string, unknown> } | undefined)?.EDNS;
  return {
    status: String(m["status"]),
    flags: String(m["flags"] ?? "")
      .split(/\s+/)
      .filter(Boolean),
    question: (m["QUESTION_SECTION"] as string[] | undefined) ?? [],
    answer: records(m["ANSWER_SECTION"] as string[] | undefined),
    authority: records(m["AUTHORITY_SECTION"] as string[] | undefined),
    additional: records(m["ADDITIONAL_SECTION"] as string[] | undefined),
    edns: opt
      ? {
          version: Number(opt["version"]),
          udp: Number(opt["udp"]),
          flags: String(opt["flags"] ?? ""),
          ...(opt["CLIENT-SUBNET"] ? { clientSubnet: String(opt["CLIENT-SUBNET"]) } : {}),
          ...(opt["EDE"]
            ? { ede: String((opt["EDE"] as Record<string, unknown>)["INFO-CODE"] ?? opt["EDE"]) }
            : {}),
          ...(opt["NSID"] ? { nsid: String(opt["NSID"]) } : {}),
        }
      : null,
    protocol: String(doc.message["socket_protocol"]),
    size: Number.parseInt(String(doc.message["message_size"]), 10),
  };
}
