/** status: the view GET /v1/status serves and `lbdns status` prints, from the pools' own state. */
import { describe, expect, it } from "vitest";
import { statusOf } from "../../../src/app/admin.js";
import { createMetrics } from "../../../src/app/metrics.js";
import { renderStatus } from "../../../src/cli/status.js";
import { MemoryHealthStore } from "../../../src/health/store.js";
import { QueryStats } from "../../../src/server/stats.js";
import { poolFixture } from "../../helpers/pools.js";

const POOLS = `
pools:
  web:
    names: [www.example.com.]
    stale-after: 6s
    members:
      - {id: web-1, address: 192.0.2.11, capacity: 100}
      - {id: web-2, address: 192.0.2.12, capacity: 100}
      - {id: web-3, address: 192.0.2.13, capacity: 200}
  mail:
    type: mx
    names: [example.com.]
    members:
      - {id: mx-1, host: mx1.example.com., address: 192.0.2.21, capacity: 50, preference: 10}
    relays:
      - {host: relay1.backup.example.net., preference: 50}
`;

function fixture() {
  const f = poolFixture(POOLS);
  f.report("web-1", 25);
  f.report("web-2", 75);
  f.report("web-3", 195);
  f.report("mx-1", 10);
  for (let i = 0; i < 10; i++) f.answer("www.example.com.");
  return f;
}

describe("status", () => {
  it("gives every member's reason, load, share now and answers so far", () => {
    const f = fixture();
    const s = statusOf(f.set, new MemoryHealthStore(f.table));
    const web = s.pools.find((p) => p.name === "web")!;
    expect(web).toMatchObject({
      type: "a",
      policy: "headroom",
      source: "member",
      names: ["www.example.com."],
    });
    const byId = Object.fromEntries(web.members.map((m) => [m.id, m]));
    expect(byId["web-3"]).toMatchObject({ reason: "shed", share: 0, answered: 0 });
    expect(byId["web-1"]!.share).toBeCloseTo(75 / 100, 5); // headroom 75 vs 25
    expect(byId["web-1"]!.answered + byId["web-2"]!.answered).toBe(10);
    const mail = s.pools.find((p) => p.name === "mail")!;
    expect(mail.mx).toEqual([
      { host: "mx1.example.com.", preference: 10, role: "primary" },
      { host: "relay1.backup.example.net.", preference: 50, role: "relay" },
    ]);
  });

  it("renders one line per member under its pool", () => {
    const f = fixture();
    const text = renderStatus(statusOf(f.set, new MemoryHealthStore(f.table)));
    expect(text).toMatch(/^health store: memory\n/);
    expect(text).toMatch(/pool web \(www\.example\.com\.\) {2}policy headroom {2}answering from: member/);
    expect(text).toMatch(/ {2}web-3 +shed +195 +200 +98%/);
    expect(text).toMatch(
      /MX answered: 10 mx1\.example\.com\. \(primary\), 50 relay1\.backup\.example\.net\. \(relay\)/,
    );
  });

  it("exports the same view as per-member gauges", async () => {
    const f = fixture();
    const catalog = { pools: f.set, reloads: 0, failedReloads: 0 };
    const metrics = createMetrics(f.env, new MemoryHealthStore(f.table), catalog, new QueryStats());
    const text = await metrics.metrics();
    expect(text).toMatch(/lbdns_pool_members\{pool="web",reason="available"\} 2/);
    expect(text).toMatch(/lbdns_pool_members\{pool="web",reason="shed"\} 1/);
    expect(text).toMatch(/lbdns_pool_answers_total\{pool="web",source="member",member="web-1"\} \d+/);
  });
});
