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
