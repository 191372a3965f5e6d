import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { Request } from "@middy/core";
import type { AuditRecord } from "../audit/entry.ts";
import type { Principal } from "../auth/principal.ts";
import { tokenHashLabel } from "../enrollment/token.ts";
import type { GrantPhase } from "../grants/phases.ts";
import type { Org } from "../orgs/index.ts";
import type { HostTenancy } from "../tenancy.ts";

/** What the middlewares learn about a request, in the order they learn it. */
export type RequestState = {
  tenancy?: HostTenancy;
  org?: Org;
  /** The verified caller, set even when its access is then refused (the audit records refusals). */
  caller?: Principal;
  /** The authorized caller: set only once the route's access admits it. */
  principal?: Principal;
  /** The request's audit record: the one a service committed (possibly in doubt), or the one this request appended. */
  audit?: { record?: AuditRecord; inDoubt?: boolean; attempted?: boolean };
  /** On enrollment routes instead of a principal: the SHA-256 of the presented token. */
  enrollmentTokenHash?: string;
  /** The phase (and grant) that admitted a platform principal on an org route. */
  vendorGrant?: VendorGrant;
  input?: { params: unknown; query: unknown; body: unknown; headers: unknown };
};

export type VendorGrant = { phase: GrantPhase; grantId?: string };

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
/** The Lambda context carries the request state: it lives exactly as long as one invocation. */
export type ApiContext = Context & RequestState;
export type ApiRequest = Request<ApiEvent, ApiResult, Error, ApiContext>;

export const requestIdOf = (event: ApiEvent): string => event.requestContext?.requestId ?? "unknown";

/**
 * The request's identifying log keys, from what the middlewares learned so far. Appended once
 * per request, when authentication is done (each append costs Powertools several environment
 * reads), and passed explicitly by the logs of refusals that come before it.
 */
export function logKeysOf(state: RequestState): Record<string, string> {
  const keys: Record<string, string> = {};
  if (state.org) keys.org = state.org.slug;
  if (state.caller) {
    keys.sub = state.caller.sub;
    keys.principal = state.caller.kind;
  }
  if (state.enrollmentTokenHash) {
    keys.principal = "enrollment";
    keys.token = tokenHashLabel(state.enrollmentTokenHash);
  }
  if (state.vendorGrant) {
    keys.grantPhase = state.vendorGrant.phase;
    if (state.vendorGrant.grantId) keys.grant = state.vendorGrant.grantId;
  }
  return keys;
}
