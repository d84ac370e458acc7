/**
 * `zones/pools.yaml` (docs/pools.md) as a zod schema. Objects are strict, so a misspelt key is an
 * error rather than a silently ignored setting.
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { parseDuration } from "../lib/duration.js";

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `'${v}' is not a duration (like 500ms, 6s, 2m)` });
    return z.NEVER;
  }
  return ms;
});

const address = z
  .string()
  .refine(
    (s) =>
      ipaddr.isValid(s) && !s.includes("%") && (ipaddr.IPv4.isValidFourPartDecimal(s) || s.includes(":")),
    {
      error: (iss) => `'${String(iss.input)}' is not an IP address`,
    },
  );

const absoluteName = z.string().refine((s) => s.endsWith("."), {
  error: (iss) => `'${String(iss.input)}' must be an absolute name ending in '.'`,
});

const cidr = z.string().refine(
  (s) => {
    try {
      ipaddr.parseCIDR(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: (iss) => `'${String(iss.input)}' is not a CIDR block` },
);

export const checkSchema = z.strictObject({
  type: z.enum(["tcp", "http", "smtp"]),
  port: z.number().int().min(1).max(65535),
  path: z.string().startsWith("/").default("/"),
  interval: duration.default(5000),
  timeout: duration.default(2000),
  rise: z.number().int().min(1).max(100).default(2),
  fall: z.number().int().min(1).max(100).default(3),
});

const memberState = z.enum(["active", "drain", "disabled"]);

export const memberSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "ids are letters, digits, '.', '_' and '-'"),
  address: z.union([address, z.array(address).min(1)]).transform((a) => (Array.isArray(a) ? a : [a])),
  capacity: z.number().positive().finite().default(100),
  region: z.string().optional(),
  weight: z.number().nonnegative().finite().default(1),
  state: memberState.default("active"),
  check: checkSchema.optional(),
});

const streamManagerSchema = z.union([
  address.transform((a) => ({ id: undefined as string | undefined, address: [a], capacity: 100 })),
  z.strictObject({
    id: memberSchema.shape.id.optional(),
    address: memberSchema.shape.address,
    capacity: z.number().positive().finite().default(100),
  }),
]);

const mxMemberSchema = z.strictObject({
  id: memberSchema.shape.id,
  host: absoluteName,
  address: memberSchema.shape.address.optional(),
  capacity: z.number().positive().finite().default(100),
  preference: z.number().int().min(0).max(65535).default(10),
  state: memberState.default("active"),
  check: checkSchema.optional(),
});

const relaySchema = z.strictObject({
  host: absoluteName,
  preference: z.number().int().min(0).max(65535),
});

const common = {
  names: z.array(absoluteName).min(1, "a pool needs at least one name"),
  ttl: z.number().int().min(0).max(86400).default(20),
  "stale-after": duration.default(6000),
  "max-utilization": z.number().positive().max(10).default(0.9),
};

export const addressPoolSchema = z.strictObject({
  type: z.literal("a").default("a"),
  ...common,
  policy: z.enum(["headroom", "least-loaded", "round-robin", "weighted", "failover"]).default("headroom"),
  mode: z.enum(["direct", "stream-manager"]).default("direct"),
  // Adaptive TTL: a range instead of one number (short when near the shed threshold or just changed).
  ttl: z
    .union([
      z.number().int().min(0).max(86400),
      z.strictObject({ min: z.number().int().min(0).max(86400), max: z.number().int().min(0).max(86400) }),
    ])
    .default(20),
  prefer: z.literal("region").optional(),
  "spill-at": z.number().positive().max(10).optional(),
  sticky: z.boolean().default(false),
  "slow-start": duration.default(30_000),
  "weigh-rtt": z.boolean().default(false),
  answers: z.number().int().min(1).max(16).default(1),
  "stream-managers": z.array(streamManagerSchema).default([]),
  fallback: z.array(address).default([]),
  members: z.array(memberSchema).default([]),
});

export const mxPoolSchema = z.strictObject({
  type: z.literal("mx"),
  ...common,
  // headroom: each answer lists one primary of the lowest preference first (drawn in proportion
  // to headroom) and the others one preference later, so mail follows headroom; equal: every
  // primary at its configured preference, and MTAs split evenly among equal ones.
  policy: z.enum(["headroom", "equal"]).default("headroom"),
  // May start empty (`lbdns pool create --type mx`); with nothing to list, the zone answers.
  members: z.array(mxMemberSchema).default([]),
  relays: z.array(relaySchema).default([]),
  standby: z.array(mxMemberSchema).default([]),
});

export const poolsFileSchema = z.strictObject({
  regions: z.record(z.string(), z.array(cidr)).default({}),
  "region-order": z.record(z.string(), z.array(z.string())).default({}),
  // Each pool is validated on its own with the schema its `type` selects (see config.ts), so an
  // error names the field of that schema rather than a failed union.
  pools: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "pool names are letters, digits, '.', '_' and '-'"),
      z.unknown(),
    )
    .default({}),
});

export type PoolsFileTop = z.infer<typeof poolsFileSchema>;
export type AddressPoolConfig = z.infer<typeof addressPoolSchema>;
export type MxPoolConfig = z.infer<typeof mxPoolSchema>;
export type MemberConfig = z.infer<typeof memberSchema>;
export type MxMemberConfig = z.infer<typeof mxMemberSchema>;
export type CheckConfig = z.infer<typeof checkSchema>;
export type PoolConfig = AddressPoolConfig | MxPoolConfig;
