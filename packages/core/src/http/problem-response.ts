import type { MiddlewareObj } from "@middy/core";
import { $ZodError } from "zod/v4/core";
import { KeyScopeViolation } from "../data/errors.ts";
import { BulkheadError } from "../errors.ts";
import { QuotaExceeded } from "../limits/errors.ts";
import { logger } from "../log.ts";
import { HttpProblem, isProblemCode, problems } from "./problems.ts";
import { logKeysOf, requestIdOf, type ApiRequest, type ApiResult } from "./state.ts";

/** Errors raised by middy's own middlewares carry an HTTP status; these are the ones we expect. */
const MIDDY_STATUS: Record<number, () => HttpProblem> = {
  415: problems.unsupportedMediaType,
  422: problems.malformedJson,
};

const problemType = (code: string): string => `urn:bulkhead:problem:${code}`;

export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof BulkheadError) return fromDomain(error);
  if (error instanceof $ZodError) {
    const errors = error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    return new HttpProblem("invalid-request", "The request does not match the schema.", { errors });
  }
  const status = (error as { statusCode?: number } | null)?.statusCode;
  if (status && MIDDY_STATUS[status]) return MIDDY_STATUS[status]();
  return problems.internal();
}

function fromDomain(error: BulkheadError): HttpProblem {
  if (!isProblemCode(error.code)) return problems.internal();
  // A count over its limit conflicts with what exists (409); a size over its limit is a body too large.
  const status = error instanceof QuotaExceeded && error.measure === "size" ? 413 : undefined;
  return new HttpProblem(error.code, error.detail, error.extensions, status);
}

/** The response for any error: a domain error by its code, anything unexpected as a 500. */
export function problemResponse(error: unknown, requestId: string): ApiResult {
  const problem = toProblem(error);
  const headers: Record<string, string> = { "content-type": "application/problem+json", "cache-control": "no-store" };
  if (problem.status === 401) {
    const scheme = problem.code === "invalid-enrollment-token" ? "Enrollment" : "Bearer";
    headers["www-authenticate"] = `${scheme} realm="bulkhead"`;
  }
  const retryAfter = problem.extensions.retryAfterSeconds;
  if (problem.status === 429 && typeof retryAfter === "number") headers["retry-after"] = String(retryAfter);
  const body = {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    requestId,
    ...problem.extensions,
  };
  return { statusCode: problem.status, headers, body: JSON.stringify(body) };
}

/**
 * Last line of every route: every failure becomes an RFC 9457 problem. 5xx bodies never carry
 * internal detail; the cause is logged instead (a guard violation as a security event).
 */
export const problemResponder = (): MiddlewareObj<any, any, Error, any, any> => ({
  onError: (request: ApiRequest) => {
    const problem = toProblem(request.error);
    if (problem.status >= 500) {
      const event = request.error instanceof KeyScopeViolation ? "key scope violation"
        : request.error instanceof BulkheadError ? `request failed: ${problem.code}` : "unhandled error";
      logger.error(event, { ...logKeysOf(request.context), error: request.error as Error });
    } else {
      logger.info("request refused", { ...logKeysOf(request.context), status: problem.status, problem: problem.code, reason: problem.detail });
    }
    request.response = problemResponse(problem, requestIdOf(request.event));
  },
});
