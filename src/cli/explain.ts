/** `lbdns explain`: asks a running server what it would answer now for a name, and why. */

import { Command } from "commander";
import { clientToken } from "../lib/token.js";
import { jsonOption, serverOption, tokenFileOption, tokenOption } from "./options.js";
import { fetchJson, pct } from "./status.js";

interface Explained {
  name: string;
  type: string;
  rcode: string;
  from: string;
  source?: string;
  policy?: string;
  answer: string[];
  authority: string[];
  additional: string[];
  members?: {
    id: string;
    reason: string;
    utilization: number;
    load: number | null;
    share: number;
    region?: string;
  }[];
  client?: {
    ip: string;
    depends: boolean;
    region?: string | null;
    candidates?: string[];
    sticky?: string | null;
  };
}

export async function explain(
  name: string,
  type: string | undefined,
  opts: { server?: string; token?: string; tokenFile: string; json?: boolean; client?: string },
): Promise<void> {
  const q = new URLSearchParams({ name, type: type ?? "A", ...(opts.client ? { client: opts.client } : {}) });
  const e = (await fetchJson(
    opts.server ?? "http://127.0.0.1:8053",
    `/v1/explain?${q}`,
    clientToken(opts.token, opts.tokenFile),
  )) as Explained;
  if (opts.json) return void process.stdout.write(`${JSON.stringify(e)}\n`);
  const out = [
    `${e.name} ${e.type} -> ${e.rcode} from ${e.from}${e.source ? ` (policy ${e.policy}, answering from ${e.source})` : ""}`,
  ];
  const c = e.client;
  if (c && !c.depends) out.push(`client ${c.ip}: this answer does not depend on who asks`);
  if (c?.depends) {
    const where = c.region ? `region ${c.region}` : "no region preference (all members)";
    out.push(
      `client ${c.ip}: answered from ${where}: ${c.candidates?.join(", ") || "(none available)"}${c.sticky ? `; sticky choice: ${c.sticky}` : ""}`,
    );
  }
  for (const [title, lines] of [
    ["answer", e.answer],
    ["authority", e.authority],
    ["additional", e.additional],
  ] as const) {
    if (lines.length > 0) out.push(`${title}:`, ...lines.map((l) => `  ${l}`));
  }
  if (e.members) {
    out.push("members:");
    for (const m of e.members) {
      const why =
        m.reason === "available" || m.reason === "probe-only" ? `share ${pct(m.share)}` : "gets no answers";
      const id = "region" in m && m.region ? `${m.id} (${m.region})` : m.id;
      out.push(
        `  ${id.padEnd(14)} ${m.reason.padEnd(11)} ${m.load === null ? "" : `util ${pct(m.utilization)}  `}${why}`,
      );
    }
    if (e.source === "member" && e.policy === "headroom")
      out.push(
        "  (headroom draws among the available members by share; the answer above is the next one drawn)",
      );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

export function explainCommand(): Command {
  return new Command("explain")
    .description("the answer lbdns would give now for NAME (and TYPE), and why, from a running server")
    .argument("<name>", "e.g. www.example.com")
    .argument("[type]", "record type (default A)")
    .option("--client <ip>", "the client (or ECS subnet address) asking: shows its region and sticky choice")
    .addOption(serverOption("a running server's admin endpoint").default("http://127.0.0.1:8053"))
    .addOption(tokenOption())
    .addOption(tokenFileOption())
    .addOption(jsonOption())
    .action((name, type, opts) => explain(name, type, opts));
}
