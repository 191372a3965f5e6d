import type { RouteDef } from "./types.ts";
import type { Grant, ObserveGrant } from "../grants/grants.ts";
import * as grants from "../grants/schemas.ts";
import * as s from "../schemas.ts";

/** A decision names the grant, what it covers and the state and window it leaves. */
const decisionRecord = (grant: Grant | ObserveGrant) => {
  const decided = grant as Partial<Grant>;
  return {
    grantId: grant.id, phase: grant.phase, state: grant.state,
    ...(decided.targetId && { targetId: decided.targetId }),
    ...(decided.notBefore && { notBefore: decided.notBefore }),
    ...(decided.notAfter && { notAfter: decided.notAfter }),
  };
};

/** The grants routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "grants.list", method: "GET", path: "/v1/grants", host: "org", access: { member: "viewer", vendor: { withoutGrant: true } }, status: 200,
    summary: "Vendor access: the standing Observe grant and elevated grants, each with its current state",
    query: s.listQuery, response: grants.grantListSchema },
  { id: "grants.request", method: "POST", path: "/v1/grants", host: "org", access: { platform: ["operator", "platform-admin"] }, status: 201,
    summary: "Request an elevated grant (platform operators)", body: grants.requestGrantBody, response: grants.grantSchema,
    records: ({ id, phase, targetId, durationSeconds, reason }: Grant) => ({ grantId: id, phase, targetId, durationSeconds: String(durationSeconds), reason }) },
  { id: "grants.approve", method: "POST", path: "/v1/grants/{grantId}/approve", host: "org", access: { member: "admin" }, status: 200,
    summary: "Approve a pending grant (or restore revoked Observe access); not by its requester",
    params: grants.grantParams, response: grants.grantSchema, records: decisionRecord },
  { id: "grants.deny", method: "POST", path: "/v1/grants/{grantId}/deny", host: "org", access: { member: "admin" }, status: 200,
    summary: "Deny a pending grant", params: grants.grantParams, response: grants.grantSchema, records: decisionRecord },
  { id: "grants.revoke", method: "POST", path: "/v1/grants/{grantId}/revoke", host: "org", access: { member: "admin" }, status: 200,
    summary: "Revoke an active grant, or standing Observe access, at once", params: grants.grantParams, response: grants.grantSchema, records: decisionRecord },
] as const satisfies readonly RouteDef[];
