import type { RouteDef } from "./types.ts";
import type { Target } from "../targets/targets.ts";
import * as s from "../schemas.ts";
import * as targets from "../targets/schemas.ts";

/** The targets routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "targets.create", method: "POST", path: "/v1/targets", host: "org", access: { member: "admin" }, status: 201,
    summary: "Register a deploy target; a BYOI target's ExternalId and trust policy are returned only here",
    body: targets.createTargetBody, response: targets.createdTargetSchema,
    records: ({ id, kind, accountId, deployRoleArn, region }: Target) =>
      ({ targetId: id, kind, ...(accountId && { accountId }), ...(deployRoleArn && { deployRoleArn }), ...(region && { region }) }) },
  { id: "targets.list", method: "GET", path: "/v1/targets", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "List deploy targets, cursor-paginated", query: s.listQuery, response: targets.targetListSchema },
  { id: "targets.get", method: "GET", path: "/v1/targets/{targetId}", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "Read a deploy target (never its ExternalId)", params: targets.targetParams, response: targets.targetSchema },
  { id: "targets.delete", method: "DELETE", path: "/v1/targets/{targetId}", host: "org", access: { member: "admin" }, status: 204,
    summary: "Delete a deploy target that has no open grant", params: targets.targetParams,
    records: ({ targetId }: { targetId: string }) => ({ targetId }) },
] as const satisfies readonly RouteDef[];
