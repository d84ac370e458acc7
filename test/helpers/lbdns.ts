/** The real `lbdns` CLI as a child process: the shared harness, as the tests use it. */
export { type CliResult, type Running, runCli, startServe } from "../../harness/lbdns.js";
export { CLI, waitFor } from "../../harness/procs.js";
