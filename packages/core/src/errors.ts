/**
 * The base of every Bulkhead error. `code` is stable (clients see it as the problem's slug and
 * branch on it); `detail` is written for the caller and never carries internal state;
 * `extensions` are further facts for the caller (`{ limit, max }`, `errors: [...]`). How a code
 * answers over HTTP is decided in http/ alone.
 */
export class BulkheadError extends Error {
  override name = "BulkheadError";
  constructor(
    readonly code: string,
    readonly detail?: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    /** `message` is for the log, when it says more than `detail` may. */
    options?: ErrorOptions & { message?: string },
  ) {
    super(options?.message ?? detail ?? code, options);
  }
}

/**
 * A signal between modules below http/, caught by the code that knows what it means. One that
 * escapes is a bug: it answers 500 with no detail, and its message goes only to the log.
 */
export class InternalError extends BulkheadError {
  override name = "InternalError";
  constructor(message: string, options?: ErrorOptions) {
    super("internal", undefined, {}, { ...options, message });
  }
}

export const invalidRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new BulkheadError("invalid-request", detail, extensions);
export const forbidden = (detail: string) => new BulkheadError("forbidden", detail);
export const notFound = (detail = "No such resource.") => new BulkheadError("not-found", detail);
/** An app that does not exist, or is being deleted. */
export const appNotFound = () => notFound("No such app.");
export const conflict = (detail: string) => new BulkheadError("conflict", detail);
