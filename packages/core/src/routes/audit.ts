import type { RouteDef } from "../routes.ts";
import * as audit from "../audit/schemas.ts";
import * as s from "../schemas.ts";

/** The audit routes of the table in ../routes.ts (their handlers import only this module). */
export const routes = [
  { id: "audit.list", method: "GET", path: "/v1/audit", host: "org", access: { member: "admin" }, status: 200,
    summary: "The org's audit trail, newest first; filter by time, actor sub and action", query: audit.auditListQuery, response: audit.auditListSchema },
  { id: "audit.verify", method: "GET", path: "/v1/audit/verify", host: "org", access: { member: "admin" }, status: 200,
    summary: "Recompute the whole chain against the signed checkpoints, then checkpoint the verified head", response: audit.auditVerifySchema },
  { id: "audit.export", method: "GET", path: "/v1/audit/export", host: "org", access: { member: "admin" }, status: 200,
    summary: "The chain as JSON Lines (application/x-ndjson) in seq order; a Link rel=next header names the next page", query: audit.auditExportQuery },
  { id: "audit.checkpoints", method: "GET", path: "/v1/audit/checkpoints", host: "org", access: { member: "admin" }, status: 200,
    summary: "Signed checkpoints of the chain head, newest first, with the public key that verifies them", query: s.listQuery, response: audit.checkpointListSchema },
] as const satisfies readonly RouteDef[];
