/**
 * Errors an operator can act on: bad input, bad files, bad arguments, an unreachable service.
 * The CLI's bin prints one as a single line (`lbdns: message`, no stack trace) and exits with its
 * code: 2 for usage and input errors, 1 for runtime failures (docs/cli.md). Anything else that
 * escapes is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  override name = "UserError";

  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}
