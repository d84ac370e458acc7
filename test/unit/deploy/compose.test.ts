/** docker-compose.yml is not run in CI (no Docker engine here), so check that it fits the project. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../../..");
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<
    string,
    { command: string | string[]; environment?: Record<string, string>; depends_on?: string[] }
  >;
};
const pools = parse(readFileSync(join(ROOT, "zones/pools.yaml"), "utf8")) as {
  pools: Record<string, { members?: { id: string }[] }>;
};
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };

describe("docker-compose.yml", () => {
  const services = compose.services;
  const memberIds = new Set(Object.values(pools.pools).flatMap((p) => (p.members ?? []).map((m) => m.id)));

  it("has redis, lbdns, and agents for members that pools.yaml defines", () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["redis", "lbdns"]));
    const agents = Object.entries(services).filter(([name]) => name.startsWith("agent-"));
    expect(agents.length).toBeGreaterThanOrEqual(2);
    for (const [, svc] of agents) {
      const member = /--member (\S+)/.exec(String(svc.command))?.[1];
      expect(member && memberIds.has(member), `agent member ${member}`).toBe(true);
      expect(svc.depends_on).toContain("redis");
    }
  });

  it("points lbdns and the agents at the compose Redis, through the CLI's own entry point", () => {
    for (const [name, svc] of Object.entries(services)) {
      if (name === "redis") continue;
      expect(svc.environment?.["LBDNS_REDIS_URL"], name).toBe("redis://redis:6379");
      expect(String(svc.command), name).toContain(pkg.bin["lbdns"]!.replace(/^\.\//, ""));
    }
  });
});
