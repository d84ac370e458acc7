import { describe, expect, it } from "vitest";
import { networkOf, RateLimiter, truncated } from "../../../src/server/rrl.js";
import { makeQuery, parse } from "../../helpers/packets.js";

describe("response rate limiting", () => {
  const make = (rate = 5, slip = 2) => {
    const clock = { now: 0 };
    const rrl = new RateLimiter({ rate, slip, exemptLoopback: true }, () => clock.now);
    return { rrl, clock };
  };

  it("allows a burst of `rate` identical responses, then slips every second one and drops the rest", () => {
    const { rrl } = make(5, 2);
    const answer = {};
    const verdicts = Array.from({ length: 11 }, () => rrl.check("198.51.100.7", answer));
    expect(verdicts).toEqual([
      "send",
      "send",
      "send",
      "send",
      "send",
      "drop",
      "slip",
      "drop",
      "slip",
      "drop",
      "slip",
    ]);
    expect([rrl.dropped, rrl.slipped]).toEqual([3, 3]);
    rrl.stop();
  });

  it("refills at `rate` per second, and counts per network and per answer", () => {
    const { rrl, clock } = make(5, 0);
    const a = {};
    const b = {};
    for (let i = 0; i < 5; i++) rrl.check("198.51.100.7", a);
    expect(rrl.check("198.51.100.200", a)).toBe("drop"); // same /24
    expect(rrl.check("198.51.101.7", a)).toBe("send"); // another /24
    expect(rrl.check("198.51.100.7", b)).toBe("send"); // another answer
    clock.now += 400; // 2 tokens back
    expect([
      rrl.check("198.51.100.7", a),
      rrl.check("198.51.100.7", a),
      rrl.check("198.51.100.7", a),
    ]).toEqual(["send", "send", "drop"]);
    rrl.stop();
  });

  it("groups IPv6 clients by /56 and exempts loopback", () => {
    expect(networkOf("2001:db8:1:2a00::1", true)).toBe(networkOf("2001:db8:1:2aff:ffff::9", true));
    expect(networkOf("2001:db8:1:2b00::1", true)).not.toBe(networkOf("2001:db8:1:2a00::1", true));
    expect(networkOf("127.0.0.1", true)).toBeNull();
    expect(networkOf("::1", true)).toBeNull();
    expect(networkOf("::ffff:127.0.0.1", true)).toBeNull();
    expect(networkOf("127.0.0.1", false)).toBe("127.0.0");
  });

  it("slips an empty, truncated copy of the response", () => {
    const q = makeQuery("www.example.com", { id: 77 });
    const response = Buffer.concat([q, Buffer.alloc(30)]);
    response[2] = 0x84;
    response.writeUInt16BE(1, 6);
    const p = parse(truncated(response, q.length));
    expect(p.header).toMatchObject({ id: 77, tc: 1 });
    expect(p.questions[0]!.name).toBe("www.example.com");
    expect(p.answers).toHaveLength(0);
  });
});
