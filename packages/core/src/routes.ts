import type { ZodMiniType } from "zod/mini";
import type { MemberRole, PlatformRole } from "./auth/principal.ts";
import * as enrollment from "./enrollment/schemas.ts";
import type { GrantPhase } from "./grants/phases.ts";
import * as grants from "./grants/schemas.ts";
import * as s from "./schemas.ts";
import * as ds from "./deployments/schemas.ts";
import * as targets from "./targets/schemas.ts";

/**
 * How a platform principal (any platform role) is admitted on an org route besides its members:
 * only while the org has an active grant of a phase (one read, in the org's partition), or, on
 * the grant routes themselves, without one. Routes without `vendor` refuse platform tokens.
 */
export type VendorAccess = { readonly underGrant: GrantPhase } | { readonly withoutGrant: true };

/** Who may call a route. Checked after the token's org is matched against the host's org. */
export type Access =
  | { public: true }
  | { member: MemberRole; vendor?: VendorAccess }
  | { platform: readonly PlatformRole[] }
  | { runtime: true }
  /** No JWT: a single-use enrollment token (`Authorization: Enrollment <token>`) consumed by the handler. */
  | { enrollment: true };

export type HostKind = "org" | "platform" | "any";
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type RouteDef = {
  readonly id: string;
  readonly method: Method;
  readonly path: string;
  readonly host: HostKind;
  readonly access: Access;
  readonly summary: string;
  readonly status: number;
  readonly params?: ZodMiniType;
  readonly query?: ZodMiniType;
  readonly body?: ZodMiniType;
  /** Request headers the handler reads (names in lower case); others pass untouched. */
  readonly headers?: ZodMiniType;
  readonly response?: ZodMiniType;
  /**
   * For a platform-host route that acts on one org: the validated input field (path or body)
   * naming that org, whose audit chain records the route's successful calls.
   */
  readonly auditOrgFrom?: string;
};

/**
 * The one route table: infra declares an API route and a function per entry, the local gateway
 * dispatches by it, and the OpenAPI document is generated from it. A route's handler lives at
 * `functions/src/<id with "." as "/">.ts` and exports `handler`.
 */
export const routes = [
  { id: "org.get", method: "GET", path: "/v1/org", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "The organization this host serves", response: s.orgSchema },
  { id: "apps.create", method: "POST", path: "/v1/apps", host: "org", access: { member: "developer", vendor: { underGrant: "Install" } }, status: 201,
    summary: "Create an app", body: s.createAppBody, response: s.appSchema },
  { id: "apps.list", method: "GET", path: "/v1/apps", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "List apps, newest cursor-paginated", query: s.listQuery, response: s.appListSchema },
  { id: "apps.get", method: "GET", path: "/v1/apps/{appId}", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "Read an app", params: s.appParams, response: s.appSchema },
  { id: "apps.update", method: "PATCH", path: "/v1/apps/{appId}", host: "org", access: { member: "developer", vendor: { underGrant: "Operate" } }, status: 200,
    summary: "Rename or describe an app", params: s.appParams, body: s.updateAppBody, response: s.appSchema },
  { id: "apps.delete", method: "DELETE", path: "/v1/apps/{appId}", host: "org", access: { member: "admin" }, status: 204,
    summary: "Delete an app", params: s.appParams },
  { id: "apps.rotate", method: "POST", path: "/v1/apps/{appId}/rotate", host: "org", access: { member: "admin" }, status: 200,
    summary: "Rotate the app's key-encryption key now: a new version wraps every credential's data key", params: s.appParams, response: s.rotationResultSchema },
  { id: "credentials.list", method: "GET", path: "/v1/apps/{appId}/credentials", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List an app's system and user credentials: metadata only, never values", params: s.appParams, query: s.listQuery, response: s.credentialListSchema },
  { id: "credentials.put", method: "PUT", path: "/v1/apps/{appId}/credentials/{name}", host: "org", access: { member: "developer" }, status: 200,
    summary: "Create or replace a system-level credential (the response has no value)", params: s.credentialParams, body: s.putCredentialBody, response: s.credentialSchema },
  { id: "credentials.delete", method: "DELETE", path: "/v1/apps/{appId}/credentials/{name}", host: "org", access: { member: "developer" }, status: 204,
    summary: "Delete a system-level credential", params: s.credentialParams },
  { id: "credentials.put-user", method: "PUT", path: "/v1/apps/{appId}/users/{sub}/credentials/{name}", host: "org", access: { member: "viewer" }, status: 200,
    summary: "Create or replace a user-level credential: a member's own, or anyone's for admin and owner", params: s.userCredentialParams, body: s.putCredentialBody, response: s.credentialSchema },
  { id: "credentials.delete-user", method: "DELETE", path: "/v1/apps/{appId}/users/{sub}/credentials/{name}", host: "org", access: { member: "viewer" }, status: 204,
    summary: "Delete a user-level credential: a member's own, or anyone's for admin and owner", params: s.userCredentialParams },
  { id: "runtime.get-credential", method: "GET", path: "/v1/runtime/credentials/{name}", host: "org", access: { runtime: true }, status: 200,
    summary: "A system-level credential's value, for the runtime of the app its token names", params: s.runtimeCredentialParams, response: s.runtimeCredentialSchema },
  { id: "runtime.get-user-credential", method: "GET", path: "/v1/runtime/users/{sub}/credentials/{name}", host: "org", access: { runtime: true }, status: 200,
    summary: "A user-level credential's value, for the runtime of the app its token names", params: s.runtimeUserCredentialParams, response: s.runtimeCredentialSchema },
  { id: "audit.list", method: "GET", path: "/v1/audit", host: "org", access: { member: "admin" }, status: 200,
    summary: "The org's audit trail, newest first; filter by time, actor sub and action", query: s.auditListQuery, response: s.auditListSchema },
  { id: "audit.verify", method: "GET", path: "/v1/audit/verify", host: "org", access: { member: "admin" }, status: 200,
    summary: "Recompute the whole chain against the signed checkpoints, then checkpoint the verified head", response: s.auditVerifySchema },
  { id: "audit.export", method: "GET", path: "/v1/audit/export", host: "org", access: { member: "admin" }, status: 200,
    summary: "The chain as JSON Lines (application/x-ndjson) in seq order; a Link rel=next header names the next page", query: s.auditExportQuery },
  { id: "audit.checkpoints", method: "GET", path: "/v1/audit/checkpoints", host: "org", access: { member: "admin" }, status: 200,
    summary: "Signed checkpoints of the chain head, newest first, with the public key that verifies them", query: s.listQuery, response: s.checkpointListSchema },
  { id: "deployments.create", method: "POST", path: "/v1/apps/{appId}/deployments", host: "org", access: { member: "developer" }, status: 202,
    summary: "Start a deployment: build the source ref, then deploy it to the target. An Idempotency-Key replays the same deployment",
    params: s.appParams, headers: ds.idempotencyHeaders, body: ds.createDeploymentBody, response: ds.deploymentSchema },
  { id: "deployments.list", method: "GET", path: "/v1/apps/{appId}/deployments", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List an app's deployments, newest first, cursor-paginated", params: s.appParams, query: s.listQuery, response: ds.deploymentListSchema },
  { id: "deployments.get", method: "GET", path: "/v1/apps/{appId}/deployments/{deploymentId}", host: "org", access: { member: "viewer" }, status: 200,
    summary: "Read a deployment: status, step timestamps, artifact, failure reason, build log excerpt", params: ds.deploymentParams, response: ds.deploymentSchema },
  { id: "deployments.cancel", method: "POST", path: "/v1/apps/{appId}/deployments/{deploymentId}/cancel", host: "org", access: { member: "developer" }, status: 200,
    summary: "Cancel a running deployment and stop its workflow", params: ds.deploymentParams, response: ds.deploymentSchema },
  { id: "orgs.create", method: "POST", path: "/v1/orgs", host: "platform", access: { platform: ["platform-admin"] }, status: 201,
    summary: "Register an organization", body: s.createOrgBody, response: s.orgSchema, auditOrgFrom: "slug" },
  { id: "orgs.get", method: "GET", path: "/v1/orgs/{slug}", host: "platform", access: { platform: ["platform-admin", "operator"] }, status: 200,
    summary: "Read an organization", params: s.orgParams, response: s.orgSchema },
  { id: "orgs.suspend", method: "POST", path: "/v1/orgs/{slug}/suspend", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Suspend an organization: its host refuses every request", params: s.orgParams, response: s.orgSchema, auditOrgFrom: "slug" },
  { id: "orgs.resume", method: "POST", path: "/v1/orgs/{slug}/resume", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Resume a suspended organization", params: s.orgParams, response: s.orgSchema, auditOrgFrom: "slug" },
  { id: "targets.create", method: "POST", path: "/v1/targets", host: "org", access: { member: "admin" }, status: 201,
    summary: "Register a deploy target; a BYOI target's ExternalId and trust policy are returned only here",
    body: targets.createTargetBody, response: targets.createdTargetSchema },
  { id: "targets.list", method: "GET", path: "/v1/targets", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "List deploy targets, cursor-paginated", query: s.listQuery, response: targets.targetListSchema },
  { id: "targets.get", method: "GET", path: "/v1/targets/{targetId}", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "Read a deploy target (never its ExternalId)", params: targets.targetParams, response: targets.targetSchema },
  { id: "targets.delete", method: "DELETE", path: "/v1/targets/{targetId}", host: "org", access: { member: "admin" }, status: 204,
    summary: "Delete a deploy target that has no open grant", params: targets.targetParams },
  { id: "enrollments.create", method: "POST", path: "/v1/enrollments", host: "org", access: { member: "admin" }, status: 201,
    summary: "Issue a single-use enrollment token (returned only here)", body: enrollment.createEnrollmentBody, response: enrollment.enrollmentSchema },
  { id: "appliances.enroll", method: "POST", path: "/v1/enroll", host: "org", access: { enrollment: true }, status: 201,
    summary: "Bind an appliance to this org with an enrollment token (Authorization: Enrollment <token>), once",
    body: enrollment.enrollBody, response: enrollment.applianceSchema },
  { id: "grants.list", method: "GET", path: "/v1/grants", host: "org", access: { member: "viewer", vendor: { withoutGrant: true } }, status: 200,
    summary: "Vendor access: the standing Observe grant and elevated grants, each with its current state",
    query: s.listQuery, response: grants.grantListSchema },
  { id: "grants.request", method: "POST", path: "/v1/grants", host: "org", access: { platform: ["operator", "platform-admin"] }, status: 201,
    summary: "Request an elevated grant (platform operators)", body: grants.requestGrantBody, response: grants.grantSchema },
  { id: "grants.approve", method: "POST", path: "/v1/grants/{grantId}/approve", host: "org", access: { member: "admin" }, status: 200,
    summary: "Approve a pending grant (or restore revoked Observe access); not by its requester",
    params: grants.grantParams, response: grants.grantSchema },
  { id: "grants.deny", method: "POST", path: "/v1/grants/{grantId}/deny", host: "org", access: { member: "admin" }, status: 200,
    summary: "Deny a pending grant", params: grants.grantParams, response: grants.grantSchema },
  { id: "grants.revoke", method: "POST", path: "/v1/grants/{grantId}/revoke", host: "org", access: { member: "admin" }, status: 200,
    summary: "Revoke an active grant, or standing Observe access, at once", params: grants.grantParams, response: grants.grantSchema },
  { id: "openapi.get", method: "GET", path: "/openapi.json", host: "any", access: { public: true }, status: 200,
    summary: "This API's OpenAPI document" },
] as const satisfies readonly RouteDef[];

export type RouteId = (typeof routes)[number]["id"];

export function routeById(id: RouteId): RouteDef {
  return routes.find((route) => route.id === id)!;
}

export const handlerFile = (route: Pick<RouteDef, "id">): string => `functions/src/${route.id.replace(".", "/")}.ts`;

/** Matches a request path against a route template; returns its path parameters. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith("{")) {
      if (!got[i]) return undefined;
      const value = safeDecode(got[i]!);
      if (value === undefined) return undefined;
      params[segment.slice(1, -1)] = value;
    } else if (segment !== got[i]) return undefined;
  }
  return params;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
