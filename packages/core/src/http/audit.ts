import type { MiddlewareObj } from "@middy/core";
import { appendAudit, type PendingAudit } from "../audit/chain.ts";
import { outcomeOfStatus, type AuditActor, type AuditDraft, type AuditRecord, type AuditTarget } from "../audit/entry.ts";
import type { Principal } from "../auth/principal.ts";
import { tenantTable } from "../data/tables.ts";
import { tokenHashLabel } from "../enrollment/token.ts";
import { logger } from "../log.ts";
import type { RouteDef } from "../routes/types.ts";
import { problemResponse, toProblem } from "./problem-response.ts";
import { problems } from "./problems.ts";
import { requestIdOf, type ApiContext, type ApiEvent, type ApiRequest, type RequestState } from "./state.ts";

/**
 * Step 7 of the stack: the audit trail. Nothing per route decides whether to audit; this does,
 * from the route table and the caller:
 * - every mutating request (any method but GET) of a verified caller of the host's org, with
 *   its outcome: ok, denied (401/403) or failed, and the status;
 * - every request of a platform token on an org host, allowed or refused, reads included;
 * - a successful platform-host route that declares `auditOrgFrom`, in that org's log.
 * Not in any log, only logged by the function: requests without a verified token (anyone could
 * flood a log), tokens of another org (that org's identities must not enter this org's log), and
 * unknown or suspended orgs (there is no log to write to), and requests refused for their rate
 * (limits/rate.ts).
 *
 * A request that changes state commits its record in the change's own transaction, through the
 * handler's `audit` (audit/chain.ts commitAudited), naming what the route's `records` picks from
 * the change; this middleware then writes nothing more. It appends a record only for a request
 * that changed nothing: a refusal, an audited read, a replay. When the change's transaction
 * failed without saying whether it landed (a timeout), it appends nothing either: the record is
 * in the table exactly when the change is. Records carry ids and names only: never the body, a
 * token or a value.
 */
export const isMutating = (route: Pick<RouteDef, "method">): boolean => route.method !== "GET";

export function actorOf(principal: Principal): AuditActor {
  switch (principal.kind) {
    case "member":
      return { kind: "member", sub: principal.sub, org: principal.org, role: principal.role };
    case "platform":
      return { kind: "platform", sub: principal.sub, role: principal.role };
    case "runtime":
      return { kind: "runtime", sub: principal.sub, org: principal.org, app: principal.app };
  }
}

/** The org whose log records this request, or undefined when none does. */
function logOf(route: RouteDef, state: RequestState, status: number): string | undefined {
  const caller = state.caller;
  if (!caller) return undefined;
  if (route.host === "org") {
    const org = state.org?.slug;
    if (!org || (caller.kind !== "platform" && caller.org !== org)) return undefined;
    return caller.kind === "platform" || isMutating(route) ? org : undefined;
  }
  if (route.auditOrgFrom && isMutating(route) && status < 400) {
    const input = state.input as { params?: Record<string, unknown>; body?: Record<string, unknown> } | undefined;
    const org = input?.params?.[route.auditOrgFrom] ?? input?.body?.[route.auditOrgFrom];
    return typeof org === "string" ? org : undefined;
  }
  return undefined;
}

/**
 * Ids the request named: its path parameters, only if they pass the route's schema (a refusal
 * at auth comes before validation, so they are checked here; invalid ones are never recorded).
 */
function defaultTarget(route: RouteDef, event: ApiEvent, org: string): AuditTarget {
  const parsed = route.params?.().safeParse(event.pathParameters ?? {});
  const params = (parsed?.success ? parsed.data : {}) as AuditTarget;
  return route.auditOrgFrom ? { ...params, [route.auditOrgFrom]: org } : { ...params };
}

const sourceIpOf = (event: ApiEvent): string | undefined => event.requestContext?.http?.sourceIp || undefined;

/** Who acts: the verified caller, or on the enrollment route the presented token (by its hash's label). */
function actorFor(state: RequestState): AuditActor {
  if (state.caller) return actorOf(state.caller);
  return { kind: "enrollment", sub: state.enrollmentTokenHash ? tokenHashLabel(state.enrollmentTokenHash) : "unknown", org: state.org!.slug };
}

function draftFor(route: RouteDef, event: ApiEvent, actor: AuditActor, target: AuditTarget, outcome: AuditDraft["outcome"]): AuditDraft {
  return { actor, action: route.id, target, outcome, requestId: requestIdOf(event), sourceIp: sourceIpOf(event) };
}

/** The handler's side of the trail: a service passes it to commitAudited. A class, not closures: one is made per request, on the hot path. */
export class RequestAuditTrail implements PendingAudit {
  constructor(private readonly route: RouteDef, private readonly event: ApiEvent, private readonly context: ApiContext) {}

  private get state() {
    return (this.context.audit ??= {});
  }

  draft(change: object): AuditDraft {
    const target = this.route.records ? this.route.records(change) : (change as AuditTarget);
    return draftFor(this.route, this.event, actorFor(this.context), target, outcomeOfStatus(this.route.status));
  }

  settled(record: AuditRecord, outcome: "committed" | "in doubt"): void {
    this.state.record = record;
    this.state.inDoubt = outcome === "in doubt";
  }
}

export const auditTrail = (route: RouteDef): MiddlewareObj<any, any, Error, any, any> => {
  const record = async (request: ApiRequest) => {
    const state = request.context;
    const audit = (state.audit ??= {});
    // Once per request: a failure in `after` reaches onError, which must not append again.
    if (audit.attempted) return;
    if (audit.record) {
      if (audit.inDoubt) logger.warn("the change's transaction failed without an answer: its record committed with it, or neither did", { route: route.id, record: audit.record.id });
      return;
    }
    audit.attempted = true;
    const status = request.response?.statusCode ?? 500;
    const problem = request.error ? toProblem(request.error).code : undefined;
    // A rate-limited request is logged, not recorded: a record per refusal would turn a flood
    // into the very writes the limit is there to stop.
    if (problem === "rate-limited") return;
    const org = logOf(route, state, status);
    if (!org) return;
    const target = defaultTarget(route, request.event, org);
    audit.record = await appendAudit(tenantTable(org), draftFor(route, request.event, actorOf(state.caller!), target, outcomeOfStatus(status, problem)));
  };
  return {
    after: record,
    onError: async (request: ApiRequest) => {
      try {
        await record(request);
      } catch (error) {
        // Fail loud: a request whose record could not be written answers 500, never silently.
        logger.error("audit append failed", { error: error as Error, route: route.id });
        request.response = problemResponse(problems.internal(), requestIdOf(request.event));
      }
    },
  };
};
