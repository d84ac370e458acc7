/**
 * Publishing a report per the contract: `SET <prefix>health:<member> <json> PX <ttl>` and
 * `PUBLISH <prefix>health <json>`, in one MULTI so readers never see one without the other.
 * Or, without Redis, POST it to a server's admin endpoint.
 */
import type { Redis } from "ioredis";
import { adminRequest } from "../lib/http.js";
import { healthChannel, healthKey } from "./redis-store.js";
import type { Report } from "./report.js";

export async function publishToRedis(
  client: Redis,
  prefix: string,
  report: Report,
  ttlMs: number,
): Promise<void> {
  const json = JSON.stringify(report);
  let results: Awaited<ReturnType<ReturnType<Redis["multi"]>["exec"]>>;
  try {
    results = await client
      .multi()
      .set(healthKey(prefix, report.member), json, "PX", Math.max(1, Math.round(ttlMs)))
      .publish(healthChannel(prefix), json)
      .exec();
  } catch (e) {
    // EXECABORT only says "previous errors"; the first of them (e.g. NOPERM for a key this
    // agent's ACL user may not write) is what an operator needs to see.
    const previous = (e as { previousErrors?: Error[] }).previousErrors;
    throw previous?.[0] ?? e;
  }
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
}

export async function postToServer(
  serverUrl: string,
  report: Report,
  token: string | undefined,
): Promise<void> {
  await adminRequest(new URL("/v1/reports", serverUrl), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(report),
  });
}
