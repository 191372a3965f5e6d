import type { RouteDef } from "./types.ts";
import * as audit from "../audit/schemas.ts";
import * as s from "../schemas.ts";

/** The audit routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "audit.list", method: "GET", path: "/v1/audit", host: "org", access: { member: "admin" }, status: 200,
    summary: "The org's sequenced audit entries, newest first; filter by time, actor sub and action; `pending` counts records not sequenced yet", query: audit.auditListQuery, response: audit.auditListSchema },
  { id: "audit.verify", method: "GET", path: "/v1/audit/verify", host: "org", access: { member: "admin" }, status: 200,
    summary: "Rebuild the org's Merkle tree from every entry and check it, its stored nodes and the legacy chain against every signed tree head and checkpoint", response: audit.auditVerifySchema },
  { id: "audit.export", method: "GET", path: "/v1/audit/export", host: "org", access: { member: "admin" }, status: 200,
    summary: "The log as JSON Lines (application/x-ndjson) in seq order; a Link rel=next header names the next page", query: audit.auditExportQuery },
  { id: "audit.heads", method: "GET", path: "/v1/audit/heads", host: "org", access: { member: "admin" }, status: 200,
    summary: "Signed tree heads of the org's log, newest first, with the public key that verifies them", query: s.listQuery, response: audit.treeHeadListSchema },
  { id: "audit.inclusion", method: "GET", path: "/v1/audit/proof/inclusion", host: "org", access: { member: "admin" }, status: 200,
    summary: "RFC 6962 audit path proving entry `seq` is in the tree of `treeSize` entries (default: the newest head)", query: audit.inclusionQuery, response: audit.inclusionProofSchema },
  { id: "audit.consistency", method: "GET", path: "/v1/audit/proof/consistency", host: "org", access: { member: "admin" }, status: 200,
    summary: "RFC 6962 consistency proof that the tree of `to` entries (default: the newest head) extends the tree of `from` entries", query: audit.consistencyQuery, response: audit.consistencyProofSchema },
  { id: "audit.checkpoints", method: "GET", path: "/v1/audit/checkpoints", host: "org", access: { member: "admin" }, status: 200,
    summary: "Signed checkpoints of the legacy hash chain, newest first (no longer made: tree heads replace them), with the public key", query: s.listQuery, response: audit.checkpointListSchema },
] as const satisfies readonly RouteDef[];
