/**
 * explain runs the server's own routing without side effects, so what it shows for a client is
 * the answer that client's next query gets (the bug it fixes: explain --client named w1 as the
 * client's region and choice, then showed an answer from another region).
 */
import { describe, expect, it } from "vitest";
import { ExplainError, explain } from "../../../src/app/explain.js";
import { Responder } from "../../../src/server/responder.js";
import { makeQuery, parse } from "../../helpers/packets.js";
import { poolFixture } from "../../helpers/pools.js";

const REGIONS = `
regions:
  east: [198.51.100.0/24]
  west: [203.0.113.0/24]
pools:
  web:
    names: [www.example.com.]
    prefer: region
    stale-after: 10m
    members:
      - {id: e1, address: 192.0.2.1, region: east}
      - {id: e2, address: 192.0.2.3, region: east}
      - {id: w1, address: 192.0.2.2, region: west}
`;

function serving(yaml: string) {
  const f = poolFixture(yaml);
  const responder = new Responder(f.zones);
  responder.setState(f.zones, f.set.byKey);
  const asked = (name: string, remote: string): string[] =>
    parse(responder.answer(makeQuery(name), "udp", remote)!).answers.map(
      (a: { address?: string }) => a.address ?? "",
    );
  return { f, responder, asked };
}

const answered = (lines: string[]) => lines.map((l) => l.split("\t").pop());

describe("explain", () => {
  it("shows the answer the client's next query gets, from the client's region", () => {
    const { f, responder, asked } = serving(REGIONS);
    for (const id of ["e1", "e2", "w1"]) f.report(id, 10);
    for (const ip of ["203.0.113.9", "198.51.100.7"]) {
      for (let i = 0; i < 20; i++) {
        const e = explain(responder.resolver, "www.example.com", "A", ip);
        expect(answered(e.answer)).toEqual(asked("www.example.com", ip));
      }
    }
    const west = explain(responder.resolver, "www.example.com", "A", "203.0.113.9");
    expect(west.client).toMatchObject({ depends: true, region: "west", candidates: ["w1"] });
    expect(answered(west.answer)).toEqual(["192.0.2.2"]);
  });

  it("changes nothing: no answer counted, no draw taken", () => {
    const { f, responder, asked } = serving(REGIONS.replace("prefer: region", "policy: headroom"));
    for (const id of ["e1", "e2", "w1"]) f.report(id, 30);
    const before = explain(responder.resolver, "www.example.com");
    for (let i = 0; i < 5; i++) expect(explain(responder.resolver, "www.example.com")).toEqual(before);
    expect(before.members!.every((m) => m.answered === 0)).toBe(true);
    expect(answered(before.answer)).toEqual(asked("www.example.com", "127.0.0.1"));
  });

  it("explains zone answers and says when the answer does not depend on who asks", () => {
    const { responder } = serving(REGIONS);
    const nx = explain(responder.resolver, "nope.example.com", "A", "203.0.113.9");
    expect(nx).toMatchObject({ rcode: "NXDOMAIN", from: "zone example.com. (nxdomain)" });
    expect(nx.client).toEqual({ ip: "203.0.113.9", depends: false });
    expect(nx.authority[0]).toMatch(/^example\.com\.\t300\tIN\tSOA\t/);
    expect(explain(responder.resolver, "www.example.org").from).toBe("no zone (refused)");
  });

  it("rejects a bad name, type or client with one line", () => {
    const { responder } = serving(REGIONS);
    expect(() => explain(responder.resolver, "a..b")).toThrow(ExplainError);
    expect(() => explain(responder.resolver, "www.example.com", "NOPE")).toThrow(
      /'NOPE' is not a record type/,
    );
    expect(() => explain(responder.resolver, "www.example.com", "A", "not-ip")).toThrow(
      /is not an IP address/,
    );
  });
});
