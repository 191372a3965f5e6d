/**
 * Errors that become RFC 9457 problem responses. `type` is stable per slug, so clients can
 * branch on it; `detail` is written for the caller and never carries internal state.
 */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const problemType = (slug: string): string => `urn:bulkhead:problem:${slug}`;

export const problems = {
  badRequest: (detail: string, extensions?: Record<string, unknown>) =>
    new HttpProblem(400, "invalid-request", "The request is not valid", detail, extensions),
  invalidCursor: () => new HttpProblem(400, "invalid-cursor", "The cursor is not valid", "Start the listing again without a cursor."),
  unauthenticated: (detail = "A valid bearer token is required.") =>
    new HttpProblem(401, "unauthenticated", "Authentication required", detail),
  /** One answer for every bad enrollment token (unknown, used, expired, another org's): no oracle. */
  invalidEnrollmentToken: () =>
    new HttpProblem(401, "invalid-enrollment-token", "Enrollment refused", "The enrollment token is not valid."),
  forbidden: (detail: string) => new HttpProblem(403, "forbidden", "Forbidden", detail),
  orgSuspended: () => new HttpProblem(403, "org-suspended", "Organization suspended", "This organization is suspended."),
  unknownHost: () => new HttpProblem(404, "unknown-host", "Unknown host", "No organization is served at this host."),
  notFound: (detail = "No such resource.") => new HttpProblem(404, "not-found", "Not found", detail),
  /** An app that does not exist, or is being deleted. */
  appNotFound: () => new HttpProblem(404, "not-found", "Not found", "No such app."),
  routeNotFound: () => new HttpProblem(404, "route-not-found", "Not found", "No route matches this method and path."),
  conflict: (detail: string) => new HttpProblem(409, "conflict", "Conflict", detail),
  idempotencyKeyReused: () =>
    new HttpProblem(422, "idempotency-key-reused", "Idempotency key reused",
      "This Idempotency-Key was already used with a different request."),
  tooLarge: (limit: number) =>
    new HttpProblem(413, "payload-too-large", "Payload too large", `The body may be at most ${limit} bytes.`),
  unsupportedMediaType: () =>
    new HttpProblem(415, "unsupported-media-type", "Unsupported media type", "Send the body as application/json."),
  malformedJson: () =>
    new HttpProblem(422, "malformed-json", "Malformed JSON", "The body is not valid JSON."),
  /** A request-rate bucket is empty: the caller's own, or the org's (shared by all its callers). */
  rateLimited: (whose: "caller" | "organization", limit: { perSecond: number; burst: number }, retryAfterSeconds: number) =>
    new HttpProblem(429, "rate-limited", "Too many requests",
      `This ${whose}'s request rate limit (${limit.perSecond} per second, bursts of ${limit.burst}) is used up; retry after ${retryAfterSeconds} s.`,
      { limit: whose === "caller" ? "principalRequestsPerSecond" : "requestsPerSecond", retryAfterSeconds }),
  /** A count the org may not exceed (apps, credentials per app): 409; a size (a credential value): 413. */
  quotaExceeded: (limit: string, max: number, what: string, status: 409 | 413 = 409) =>
    new HttpProblem(status, "quota-exceeded", "Quota exceeded", `${what} is limited to ${max} for this organization (limit ${limit}).`, { limit, max }),
  /** Deployments are refused, not queued, while the org's running deployments are at its limit. */
  deploymentsAtLimit: (max: number) =>
    new HttpProblem(429, "deployment-limit", "Too many deployments running",
      `This organization may run ${max} deployment${max === 1 ? "" : "s"} at once and that many have not ended; start this one when one ends.`,
      { limit: "concurrentDeployments", max }),
  internal: () => new HttpProblem(500, "internal", "Internal error", "Something went wrong on our side."),
  credentialStoreMissing: () =>
    new HttpProblem(409, "credential-store-missing", "No credential store", "This app has no credential store; recreate the app to get one."),
  rotationDeferred: (until: string) =>
    new HttpProblem(409, "rotation-deferred", "Rotation deferred", `The previous key version stays readable until ${until}; rotate again after that.`, { retryAfter: until }),
  rotationBusy: () => new HttpProblem(409, "rotation-busy", "Rotation in progress", "Another rotation of this app is running; try again shortly."),
  /** Stored ciphertext failed authentication: tampered with, moved between rows, or its key is gone. Never the value. */
  credentialIntegrity: () =>
    new HttpProblem(500, "credential-integrity", "Credential failed its integrity check", "The stored credential cannot be decrypted as it is; it was not returned."),
} as const;
