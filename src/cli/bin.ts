#!/usr/bin/env node
/**
 * The `lbdns` executable: the only module with side effects. An operator's mistake (UserError)
 * is one line on stderr and its exit code (2 for usage and input, 1 for runtime failures);
 * anything else is a bug and keeps its stack trace.
 */
import { CommanderError } from "commander";
import { UserError } from "../lib/errors.js";
import { buildProgram } from "./program.js";

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`lbdns: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    // Help and --version end with code 0; a usage error was printed by commander already.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  });
