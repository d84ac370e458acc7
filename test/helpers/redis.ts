/** A real redis-server on a free loopback port: the shared harness, as the tests use it. */

export { freePort } from "../../harness/procs.js";
export { addAgentUser, addServeUser, RedisServer } from "../../harness/redis.js";
