import type { AuditTarget } from "./audit/entry.ts";
import type { MemberRole, PlatformRole } from "./auth/principal.ts";
import type { GrantPhase } from "./grants/phases.ts";
import type { SchemaFactory } from "./lazy-schema.ts";
import { routes as orgRoutes } from "./routes/org.ts";
import { routes as appsRoutes } from "./routes/apps.ts";
import { routes as credentialsRoutes } from "./routes/credentials.ts";
import { routes as runtimeRoutes } from "./routes/runtime.ts";
import { routes as auditRoutes } from "./routes/audit.ts";
import { routes as deploymentsRoutes } from "./routes/deployments.ts";
import { routes as sourcesRoutes } from "./routes/sources.ts";
import { routes as orgsRoutes } from "./routes/orgs.ts";
import { routes as targetsRoutes } from "./routes/targets.ts";
import { routes as enrollmentsRoutes } from "./routes/enrollments.ts";
import { routes as appliancesRoutes } from "./routes/appliances.ts";
import { routes as grantsRoutes } from "./routes/grants.ts";
import { routes as openapiRoutes } from "./routes/openapi.ts";

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

/**
 * What a change's audit record names: from what the change wrote, its ids and decisive fields
 * (never a secret, a token or a value). Declared by every route that changes state.
 */
export type Records = (change: any) => AuditTarget;

type RouteCommon = {
  readonly id: string;
  readonly path: string;
  readonly host: HostKind;
  readonly access: Access;
  readonly summary: string;
  readonly status: number;
  /** Schemas are factories (lazy-schema.ts): a function builds only its own route's, on first use. */
  readonly params?: SchemaFactory;
  readonly query?: SchemaFactory;
  readonly body?: SchemaFactory;
  /** Request headers the handler reads (names in lower case); others pass untouched. */
  readonly headers?: SchemaFactory;
  readonly response?: SchemaFactory;
  /**
   * For a platform-host route that acts on one org: the validated input field (path or body)
   * naming that org, whose audit chain records the route's successful calls.
   */
  readonly auditOrgFrom?: string;
};

/** A route that changes state (any method but GET) must say what its audit record names. */
export type RouteDef = RouteCommon & (
  | { readonly method: "GET"; readonly records?: undefined }
  | { readonly method: Exclude<Method, "GET">; readonly records: Records }
);

/**
 * The one route table: infra declares an API route and a function per entry, the local gateway
 * dispatches by it, and the OpenAPI document is generated from it. A route's handler lives at
 * `functions/src/<id with "." as "/">.ts` and exports `handler`. Each entry is written once, in
 * its area's module under routes/, which the handler imports instead of this table: a function
 * bundles only its own area's schemas, and builds only its own route's, when it first uses them.
 */
export const routes = [
  ...orgRoutes,
  ...appsRoutes,
  ...credentialsRoutes,
  ...runtimeRoutes,
  ...auditRoutes,
  ...sourcesRoutes,
  ...deploymentsRoutes,
  ...orgsRoutes,
  ...targetsRoutes,
  ...enrollmentsRoutes,
  ...appliancesRoutes,
  ...grantsRoutes,
  ...openapiRoutes,
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
