import type { RouteDef } from "./types.ts";
import type { Org } from "../orgs/index.ts";
import * as s from "../schemas.ts";

/** The org as the change left it: its status and the limits set for it (defaults are not named). */
export const orgRecord = ({ slug, status, limits }: Org) => ({
  slug, status,
  ...(limits && { limits: Object.entries(limits).sort().map(([limit, value]) => `${limit}=${value}`).join(",") }),
});

/** The orgs routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "orgs.create", method: "POST", path: "/v1/orgs", host: "platform", access: { platform: ["platform-admin"] }, status: 201,
    summary: "Register an organization", body: s.createOrgBody, response: s.orgSchema, auditOrgFrom: "slug", records: orgRecord },
  { id: "orgs.get", method: "GET", path: "/v1/orgs/{slug}", host: "platform", access: { platform: ["platform-admin", "operator"] }, status: 200,
    summary: "Read an organization", params: s.orgParams, response: s.orgSchema },
  { id: "orgs.update", method: "PATCH", path: "/v1/orgs/{slug}", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Rename an organization or change its limits (null returns a limit to its default)",
    params: s.orgParams, body: s.updateOrgBody, response: s.orgSchema, auditOrgFrom: "slug", records: orgRecord },
  { id: "orgs.suspend", method: "POST", path: "/v1/orgs/{slug}/suspend", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Suspend an organization: its host refuses every request", params: s.orgParams, response: s.orgSchema, auditOrgFrom: "slug", records: orgRecord },
  { id: "orgs.resume", method: "POST", path: "/v1/orgs/{slug}/resume", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Resume a suspended organization", params: s.orgParams, response: s.orgSchema, auditOrgFrom: "slug", records: orgRecord },
] as const satisfies readonly RouteDef[];
