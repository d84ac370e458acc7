/** An operator mistake: printed as one line (no stack trace) and the process exits non-zero. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
