// The one shape of winekernel's typed errors: a stable `code` that callers,
// logs and tests rely on, a message for people, and the subclass's own name
// (so a log line says ServerFdError, not Error). Every layer (requests/,
// backends/, mappings/, proxy/, cli/) extends it, so it depends on nothing.

export class WinekernelError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // new.target is the class `new` was called on: the subclass, however deep.
    this.name = new.target.name;
  }
}
