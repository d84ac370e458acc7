import { describe, expect, it } from "vitest";
import { PoolsError, parsePools } from "../../../src/pools/config.js";
import { apex, zoneSet } from "../../helpers/zones.js";

const zones = zoneSet({
  "example.com.": `${apex("example.com.")}alias CNAME www\nchild NS ns.other.net.\nmx1 A 192.0.2.21\n`,
});

function problems(yaml: string): string[] {
  try {
    parsePools(yaml, "pools.yaml", zones);
  } catch (e) {
    if (e instanceof PoolsError) return e.problems;
    throw e;
  }
  return [];
}

describe("pools.yaml validation", () => {
  it("refuses a pool name in a pre-signed zone: its answers could not be signed", () => {
    const signed = zoneSet({
      "signed.test.": `${apex("signed.test.")}@ DNSKEY 257 3 13 AAAAAAAA\n@ RRSIG SOA 13 2 300 20300101000000 20200101000000 1 signed.test. AAAAAAAA\nwww A 192.0.2.1\n`,
    });
    const yaml =
      "pools:\n  web:\n    names: [www.signed.test.]\n    members: [{id: w1, address: 192.0.2.1}]\n";
    let got: string[] = [];
    try {
      parsePools(yaml, "pools.yaml", signed);
    } catch (e) {
      if (e instanceof PoolsError) got = e.problems;
    }
    expect(got).toEqual([
      "pool 'web', name 'www.signed.test.': /virtual/signed.test.zone is a pre-signed zone, and lbdns cannot sign pool answers without its key; bind the pool in a zone lbdns signs itself (lbdns dnssec enable) or an unsigned one",
    ]);
  });

  it("refuses an empty file (a truncated write) and accepts an explicit 'pools: {}' (issue 18 #8)", () => {
    expect(problems("")).toEqual([
      "the file is empty (a truncated write?); to serve no pools write 'pools: {}'",
    ]);
    expect(problems("# only a comment\n")).toHaveLength(1);
    expect(problems("pools: {}\n")).toEqual([]);
  });

  it("accepts the documented example shape (docs/pools.md) with defaults filled in", () => {
    const cfg = parsePools(
      `regions: {east: [198.51.100.0/24, "2001:db8:e::/48"], west: [203.0.113.0/24]}
region-order: {east: [east, west]}
pools:
  web:
    names: [www.example.com.]
    members:
      - {id: web-1, address: [192.0.2.11, "2001:db8::11"], capacity: 100, region: east, check: {type: tcp, port: 80}}
  mail:
    type: mx
    names: [example.com.]
    members: [{id: mx-1, host: mx1.example.com., address: 192.0.2.21, capacity: 50, preference: 10}]
    relays: [{host: relay1.backup.example.net., preference: 50}]
    standby: [{id: mx-standby, host: mx9.example.com., address: 192.0.2.29, preference: 10}]
`,
      "pools.yaml",
      zones,
    );
    const web = cfg.pools[0]!.config;
    expect(web).toMatchObject({
      type: "a",
      policy: "headroom",
      mode: "direct",
      ttl: 20,
      answers: 1,
      "max-utilization": 0.9,
      "stale-after": 6000,
    });
    expect(web.type === "a" && web.members[0]!.check).toMatchObject({
      interval: 5000,
      timeout: 2000,
      rise: 2,
      fall: 3,
    });
    expect(cfg.pools[0]!.keys).toEqual(["www.example.com"]);
  });

  it("names the pool, the member and the field", () => {
    expect(
      problems(
        `pools:\n  web:\n    names: [www.example.com.]\n    members: [{id: w1, address: 192.0.2.300}]\n`,
      ),
    ).toEqual(["pool 'web', member 'w1', field 'address': '192.0.2.300' is not an IP address"]);
    expect(problems(`pools:\n  web:\n    names: [www.example.com.]\n    polcy: headroom\n`)[0]).toMatch(
      /^pool 'web': .*polcy/,
    );
    expect(problems(`pools:\n  web:\n    names: [www.example.com.]\n    policy: fastest\n`)[0]).toMatch(
      /^pool 'web', field 'policy'/,
    );
    expect(problems(`pools:\n  web:\n    names: [www.example.com]\n`)[0]).toMatch(/must be an absolute name/);
    expect(problems(`pools:\n  web:\n    names: [www.example.com.]\n    stale-after: soon\n`)[0]).toMatch(
      /'soon' is not a duration/,
    );
  });

  it("checks names against the zones: inside a zone, no CNAME, not delegated, bound once", () => {
    expect(problems(`pools:\n  a:\n    names: [www.example.org.]\n`)).toEqual([
      "pool 'a', name 'www.example.org.': not inside any loaded zone",
    ]);
    expect(problems(`pools:\n  a:\n    names: [alias.example.com.]\n`)[0]).toMatch(/has a CNAME/);
    expect(problems(`pools:\n  a:\n    names: [x.child.example.com.]\n`)[0]).toMatch(/below a delegation/);
    expect(
      problems(`pools:\n  a:\n    names: [www.example.com.]\n  b:\n    names: [WWW.example.com.]\n`)[0],
    ).toMatch(/already bound to pool 'a'/);
  });

  it("requires unique member ids across pools and known regions", () => {
    const yaml = `pools:
  a:
    names: [a.example.com.]
    members: [{id: m1, address: 192.0.2.1}]
  b:
    names: [b.example.com.]
    members: [{id: m1, address: 192.0.2.2, region: mars}]
`;
    expect(problems(yaml)).toEqual([
      "pool 'b', member 'm1', field 'region': unknown region 'mars'",
      "pool 'b', member 'm1': id already used in pool 'a'",
    ]);
  });

  it("keeps relays strictly after every primary, and MX targets off CNAMEs", () => {
    const mx = (relayPref: number, host = "mx1.example.com.") => `pools:
  mail:
    type: mx
    names: [example.com.]
    members: [{id: mx-1, host: ${host}, preference: 20}]
    relays: [{host: relay.example.net., preference: ${relayPref}}]
`;
    expect(problems(mx(50))).toEqual([]);
    expect(problems(mx(20))[0]).toMatch(
      /relay 'relay.example.net.', field 'preference': 20 must be greater than every primary preference/,
    );
    expect(problems(mx(50, "alias.example.com."))[0]).toMatch(/is a CNAME \(RFC 2181 §10.3\)/);
    expect(
      problems(mx(50).replace("preference: 20}", "preference: 20, check: {type: smtp, port: 25}}")),
    ).toEqual(["pool 'mail', member 'mx-1', field 'check': a check needs the member's 'address'"]);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(problems("pools:\n  web:\n    names: [www.example.com.\n")[0]).toMatch(/^line \d+: /);
    expect(problems("pools:\n  web: {}\n  web: {}\n")[0]).toMatch(/line 3/);
  });
});
