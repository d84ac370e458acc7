/**
 * Report-to-answer latency: publish a report that changes which member is available, then query
 * over UDP until the answer changes. Publishing uses the same code as `lbdns report`; queries
 * use a raw socket so neither dig's nor node's start-up is what gets measured.
 */
import { createSocket } from "node:dgram";
import { Redis } from "ioredis";
import { publishToRedis } from "../src/health/publish.js";

function query(name: string, id: number): Buffer {
  const labels = name.split(".").filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 1) + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    o += q.write(l, o, "ascii");
  }
  q[o++] = 0;
  q.writeUInt16BE(1, o);
  q.writeUInt16BE(1, o + 2);
  return q;
}

/** The pools.yaml lines of the two-member pool at www.example.com. that the flips drive. */
export const FLIP_POOL_YAML = [
  "  flip:",
  "    names: [www.example.com.]",
  "    stale-after: 10m",
  "    members:",
  "      - {id: flip-1, address: 192.0.2.101}",
  "      - {id: flip-2, address: 192.0.2.102}",
];

/** Returns [median, p99] in ms over `changes` flips between two members (pool FLIP_POOL_YAML). */
export async function measurePropagation(
  redisPort: number,
  dnsPort: number,
  changes: number,
): Promise<number[]> {
  const redis = new Redis({ port: redisPort });
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  let latest = "";
  socket.on("message", (msg) => {
    latest = [...msg.subarray(msg.length - 4)].join(".");
  });
  const ask = () => socket.send(query("www.example.com", 1), dnsPort, "127.0.0.1");
  const samples: number[] = [];
  let ts = Date.now();
  try {
    for (let i = 0; i < changes; i++) {
      const [up, down] = i % 2 === 0 ? ["flip-1", "flip-2"] : ["flip-2", "flip-1"];
      const want = up === "flip-1" ? "192.0.2.101" : "192.0.2.102";
      const started = performance.now();
      await publishToRedis(
        redis,
        "lbdns:",
        { v: 1, member: down, status: "down", load: 0, ts: ++ts },
        60_000,
      );
      await publishToRedis(redis, "lbdns:", { v: 1, member: up, status: "up", load: 10, ts: ++ts }, 60_000);
      latest = "";
      for (let k = 0; k < 2000 && latest !== want; k++) {
        ask();
        await new Promise((r) => setTimeout(r, 1));
      }
      if (latest !== want) throw new Error(`answer did not change to ${want}`);
      samples.push(performance.now() - started);
    }
  } finally {
    socket.close();
    redis.disconnect();
  }
  samples.sort((a, b) => a - b);
  return [
    samples[Math.floor(samples.length / 2)]!,
    samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]!,
  ];
}
