/** The `lbdns` command tree (commander): one command per file, assembled here without side effects. */
import { Command } from "commander";
import { packageVersion } from "../lib/version.js";
import { agentCommand } from "./agent.js";
import { dnssecCommand } from "./dnssec.js";
import { explainCommand } from "./explain.js";
import { poolCommand } from "./pool.js";
import { reportCommand } from "./report.js";
import { serveCommand } from "./serve.js";
import { statusCommand } from "./status.js";
import { zoneCommand } from "./zone.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("lbdns")
    .description("Authoritative DNS server with load-aware answers")
    .version(packageVersion(), "-V, --version", "print the lbdns version")
    .showHelpAfterError("(run with --help for usage)");
  for (const command of [
    serveCommand(),
    reportCommand(),
    agentCommand(),
    zoneCommand(),
    dnssecCommand(),
    poolCommand(),
    statusCommand(),
    explainCommand(),
  ])
    program.addCommand(command);
  usageErrorsThrow(program);
  return program;
}

/**
 * Commander exits 1 on a usage error; lbdns's convention is 2 (docs/cli.md). Every command throws
 * instead (commander has already printed the one-line message), and bin picks the exit code.
 * Commands made with addCommand do not inherit this setting, hence the walk.
 */
function usageErrorsThrow(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) usageErrorsThrow(sub);
}
