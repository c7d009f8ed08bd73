/**
 * An error caused by the user's input or environment (config, checkout state), with the fix in its
 * message. Entry points print only the message for these: a stack trace would bury the fix.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Whether an entry point shows only the message: a UserError, or a command line node's parseArgs refused. */
export function isUserFacing(error: unknown): boolean {
  return error instanceof UserError || Boolean((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
}
