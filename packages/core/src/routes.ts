import type { z } from "zod";
import type { MemberRole, PlatformRole } from "./auth/principal.ts";
import * as s from "./schemas.ts";

/** Who may call a route. Checked after the token's org is matched against the host's org. */
export type Access =
  | { public: true }
  | { member: MemberRole }
  | { platform: readonly PlatformRole[] }
  | { runtime: true };

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
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly response?: z.ZodType;
};

/**
 * The one route table: infra declares an API route and a function per entry, the local gateway
 * dispatches by it, and the OpenAPI document is generated from it. A route's handler lives at
 * `functions/src/<id with "." as "/">.ts` and exports `handler`.
 */
export const routes = [
  { id: "org.get", method: "GET", path: "/v1/org", host: "org", access: { member: "viewer" }, status: 200,
    summary: "The organization this host serves", response: s.orgSchema },
  { id: "apps.create", method: "POST", path: "/v1/apps", host: "org", access: { member: "developer" }, status: 201,
    summary: "Create an app", body: s.createAppBody, response: s.appSchema },
  { id: "apps.list", method: "GET", path: "/v1/apps", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List apps, newest cursor-paginated", query: s.listQuery, response: s.appListSchema },
  { id: "apps.get", method: "GET", path: "/v1/apps/{appId}", host: "org", access: { member: "viewer" }, status: 200,
    summary: "Read an app", params: s.appParams, response: s.appSchema },
  { id: "apps.update", method: "PATCH", path: "/v1/apps/{appId}", host: "org", access: { member: "developer" }, status: 200,
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
  { id: "orgs.create", method: "POST", path: "/v1/orgs", host: "platform", access: { platform: ["platform-admin"] }, status: 201,
    summary: "Register an organization", body: s.createOrgBody, response: s.orgSchema },
  { id: "orgs.get", method: "GET", path: "/v1/orgs/{slug}", host: "platform", access: { platform: ["platform-admin", "operator"] }, status: 200,
    summary: "Read an organization", params: s.orgParams, response: s.orgSchema },
  { id: "orgs.suspend", method: "POST", path: "/v1/orgs/{slug}/suspend", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Suspend an organization: its host refuses every request", params: s.orgParams, response: s.orgSchema },
  { id: "orgs.resume", method: "POST", path: "/v1/orgs/{slug}/resume", host: "platform", access: { platform: ["platform-admin"] }, status: 200,
    summary: "Resume a suspended organization", params: s.orgParams, response: s.orgSchema },
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
