import { BulkheadError } from "../errors.ts";

type Problem = { status: number; title: string; /** A 5xx's detail: the only one it ever carries. */ detail?: string };

/**
 * How each code answers over HTTP. A 5xx carries the detail given here, never the error's own,
 * so nothing internal reaches the caller.
 */
const PROBLEMS = {
  "invalid-request": { status: 400, title: "The request is not valid" },
  "invalid-cursor": { status: 400, title: "The cursor is not valid" },
  "unauthenticated": { status: 401, title: "Authentication required" },
  "invalid-enrollment-token": { status: 401, title: "Enrollment refused" },
  "forbidden": { status: 403, title: "Forbidden" },
  "org-suspended": { status: 403, title: "Organization suspended" },
  "unknown-host": { status: 404, title: "Unknown host" },
  "not-found": { status: 404, title: "Not found" },
  "route-not-found": { status: 404, title: "Not found" },
  "conflict": { status: 409, title: "Conflict" },
  "quota-exceeded": { status: 409, title: "Quota exceeded" },
  "credential-store-missing": { status: 409, title: "No credential store" },
  "rotation-deferred": { status: 409, title: "Rotation deferred" },
  "rotation-busy": { status: 409, title: "Rotation in progress" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  "malformed-json": { status: 422, title: "Malformed JSON" },
  "idempotency-key-reused": { status: 422, title: "Idempotency key reused" },
  "rate-limited": { status: 429, title: "Too many requests" },
  "deployment-limit": { status: 429, title: "Too many deployments running" },
  "internal": { status: 500, title: "Internal error", detail: "Something went wrong on our side." },
  "credential-integrity": { status: 500, title: "Credential failed its integrity check",
    detail: "The stored credential cannot be decrypted as it is; it was not returned." },
} satisfies Record<string, Problem>;

export type ProblemCode = keyof typeof PROBLEMS;

export const isProblemCode = (code: string): code is ProblemCode => Object.hasOwn(PROBLEMS, code);

/** An error as the caller sees it: an RFC 9457 problem, its `type` stable per code. */
export class HttpProblem extends BulkheadError {
  override readonly name = "HttpProblem";
  readonly status: number;
  readonly title: string;

  constructor(code: ProblemCode, detail?: string, extensions?: Record<string, unknown>, status?: number) {
    const problem: Problem = PROBLEMS[code];
    super(code, problem.status >= 500 ? problem.detail : detail, extensions);
    this.status = status ?? problem.status;
    this.title = problem.title;
  }
}

/** The refusals http/ raises itself, before any domain code runs. */
export const problems = {
  unauthenticated: (detail = "A valid bearer token is required.") => new HttpProblem("unauthenticated", detail),
  orgSuspended: () => new HttpProblem("org-suspended", "This organization is suspended."),
  unknownHost: () => new HttpProblem("unknown-host", "No organization is served at this host."),
  routeNotFound: () => new HttpProblem("route-not-found", "No route matches this method and path."),
  tooLarge: (limit: number) => new HttpProblem("payload-too-large", `The body may be at most ${limit} bytes.`),
  unsupportedMediaType: () => new HttpProblem("unsupported-media-type", "Send the body as application/json."),
  malformedJson: () => new HttpProblem("malformed-json", "The body is not valid JSON."),
  /** A request-rate bucket is empty: the caller's own, or the org's (shared by all its callers). */
  rateLimited: (whose: "caller" | "organization", limit: { perSecond: number; burst: number }, retryAfterSeconds: number) =>
    new HttpProblem("rate-limited",
      `This ${whose}'s request rate limit (${limit.perSecond} per second, bursts of ${limit.burst}) is used up; retry after ${retryAfterSeconds} s.`,
      { limit: whose === "caller" ? "principalRequestsPerSecond" : "requestsPerSecond", retryAfterSeconds }),
  internal: () => new HttpProblem("internal"),
} as const;
