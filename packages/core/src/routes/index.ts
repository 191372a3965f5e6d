import { routes as orgRoutes } from "./org.ts";
import { routes as appsRoutes } from "./apps.ts";
import { routes as credentialsRoutes } from "./credentials.ts";
import { routes as runtimeRoutes } from "./runtime.ts";
import { routes as auditRoutes } from "./audit.ts";
import { routes as deploymentsRoutes } from "./deployments.ts";
import { routes as sourcesRoutes } from "./sources.ts";
import { routes as orgsRoutes } from "./orgs.ts";
import { routes as targetsRoutes } from "./targets.ts";
import { routes as enrollmentsRoutes } from "./enrollments.ts";
import { routes as appliancesRoutes } from "./appliances.ts";
import { routes as grantsRoutes } from "./grants.ts";
import { routes as openapiRoutes } from "./openapi.ts";
import type { RouteDef } from "./types.ts";

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
