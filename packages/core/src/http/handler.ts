import middy from "@middy/core";
import httpEventNormalizer from "@middy/http-event-normalizer";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import httpSecurityHeaders from "@middy/http-security-headers";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type * as z from "zod/mini";
import type { PendingAudit } from "../audit/chain.ts";
import type { Principal } from "../auth/principal.ts";
import { tenantTable, type TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import type { Org } from "../orgs/index.ts";
import type { RouteDef } from "../routes/types.ts";
import { auditTrail, RequestAuditTrail } from "./audit.ts";
import { authenticate } from "./auth.ts";
import { bodyLimit, validateInput } from "./input.ts";
import { problemResponder } from "./problem-response.ts";
import { requestIdOf, type ApiContext, type ApiEvent, type ApiResult, type VendorGrant } from "./state.ts";
import { tenant } from "./tenant.ts";

type Infer<T> = T extends () => z.ZodMiniType ? z.output<ReturnType<T>> : undefined;
type Input<R extends RouteDef> = {
  params: R extends { params: infer P } ? Infer<P> : Record<string, never>;
  query: R extends { query: infer Q } ? Infer<Q> : Record<string, never>;
  body: R extends { body: infer B } ? Infer<B> : undefined;
  headers: R extends { headers: infer H } ? Infer<H> : Record<string, never>;
};

/** What a handler receives besides its input. `table` exists only on org-host routes. */
export type HandlerContext = {
  requestId: string;
  principal?: Principal;
  org?: Org;
  table?: TenantTable;
  /** This request's audit record: services commit it with their change (commitAudited). */
  audit: PendingAudit;
  /** Enrollment routes only: the presented token's SHA-256 (the token itself goes no further). */
  enrollmentTokenHash?: string;
  /** Set when a platform principal was admitted under a grant (for audit). */
  vendorGrant?: VendorGrant;
};

/**
 * A handler's answer; `status` defaults to the route's declared success status. `body` is sent
 * as JSON; `text` is sent verbatim (with a content-type header of the handler's choosing).
 */
export type Reply = { body?: unknown; text?: string; status?: number; headers?: Record<string, string> };

export type RouteHandler<R extends RouteDef> = (input: Input<R>, ctx: HandlerContext) => Promise<Reply>;

/**
 * Wraps a route's handler in the middy stack (README, "Isolation, layer by layer"). Order matters: onError runs in
 * reverse, so the problem responder answers first, then the audit trail records that answer,
 * then security headers are added.
 *
 * `area` is the route's area module (routes/<area>.ts), whose entries the one table in routes/index.ts
 * spreads: importing it rather than the table keeps other areas' schemas out of the bundle. The
 * returned handler carries its `route` so a test can check it is the table's own entry.
 */
export function defineHandler<const Area extends readonly RouteDef[], Id extends Area[number]["id"]>(
  area: Area,
  id: Id,
  handle: RouteHandler<Extract<Area[number], { id: Id }>>,
) {
  const route: RouteDef | undefined = area.find((entry) => entry.id === id);
  if (!route) throw new Error(`no route ${id} in its area module`);
  // No early timeout: it would answer (and audit) a failure while the handler's writes, which its
  // abort signal does not reach, may still commit. Lambda's own timeout ends a stuck request.
  const stack = middy<ApiEvent, ApiResult, Error, ApiContext>({ timeoutEarlyInMillis: 0 })
    // Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries bearer tokens and credential values.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(httpSecurityHeaders())
    .use(auditTrail(route))
    .use(problemResponder())
    // No header normalizer: API Gateway's HTTP API (payload 2.0) already lower-cases header
    // names, and so does the local gateway (Node's request headers).
    .use(httpEventNormalizer())
    .use(tenant(route))
    .use(authenticate(route));
  if (route.body) stack.use(bodyLimit()).use(httpJsonBodyParser());
  stack.use(validateInput(route));
  const handler = stack.handler(async (event, context) => {
    const requestId = requestIdOf(event);
    const { org, principal, input, enrollmentTokenHash, vendorGrant } = context;
    const reply = await handle(input as never, {
      requestId,
      org,
      principal,
      table: org ? tenantTable(org.slug) : undefined,
      audit: new RequestAuditTrail(route, event, context),
      enrollmentTokenHash,
      vendorGrant,
    });
    return toResult(reply, route.status);
  });
  return Object.assign(handler, { route });
}

function toResult(reply: Reply, defaultStatus: number): ApiResult {
  const status = reply.status ?? defaultStatus;
  const headers: Record<string, string> = { "cache-control": "no-store", ...reply.headers };
  if (reply.text !== undefined) return { statusCode: status, headers, body: reply.text };
  if (reply.body === undefined) return { statusCode: status, headers };
  return {
    statusCode: status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(reply.body),
  };
}
