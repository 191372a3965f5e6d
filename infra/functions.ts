import type { RoleDocuments } from "../packages/core/src/iam/document.ts";
import { functionAccess, functionRole } from "../packages/core/src/iam/platform.ts";
import { handlerFile, routes, type RouteDef, type RouteId } from "../packages/core/src/routes.ts";
import type { LinkName, Links } from "./links.ts";
import type { Stage } from "./stage.ts";

/**
 * What each handler's code reads through `Resource`. Every handler runs defineHandler's stack
 * (tenant: Platform and Table; auth: Auth; tenant table: TenantData); some read more.
 * test/infra-contract.test.ts checks these against each handler's bundle, both ways.
 */
const EVERY_HANDLER: readonly LinkName[] = ["Table", "Platform", "Auth", "TenantData"];
const ROUTE_LINKS: Partial<Record<RouteId, readonly LinkName[]>> = {
  "apps.list": ["CursorKey"],
  "apps.create": ["KeyStore"],
  "apps.delete": ["KeyStore"],
  "apps.rotate": ["KeyStore"],
  "credentials.list": ["CursorKey"],
  "credentials.put": ["KeyStore"],
  "credentials.put-user": ["KeyStore"],
  "runtime.get-credential": ["KeyStore"],
  "runtime.get-user-credential": ["KeyStore"],
  "deployments.list": ["CursorKey"],
  "targets.create": ["Deployer"],
  "targets.list": ["CursorKey"],
  "grants.list": ["CursorKey"],
  "audit.list": ["CursorKey"],
  "audit.export": ["CursorKey"],
  "audit.verify": ["AuditCheckpointKey"],
  "audit.checkpoints": ["AuditCheckpointKey", "CursorKey"],
};

const linkNamesOf = (route: Pick<RouteDef, "id">): LinkName[] => [
  ...EVERY_HANDLER,
  ...(ROUTE_LINKS[route.id as RouteId] ?? []),
];

/** `apps.list` → `AppsList`: SST's logical names are alphanumeric. */
const logicalName = (id: string) => id.split(/[.-]/).map((part) => part[0]!.toUpperCase() + part.slice(1)).join("");

/**
 * SST creates each function's role; this replaces its trust, inline policy and managed
 * policies (AWSLambdaBasicExecutionRole writes any log group) with the generated documents.
 * Under `sst dev` the function is a stub relaying to the developer's machine and needs SST's
 * own statements and trust, so those stay and the platform's policy is added.
 */
function ownRole(role: RoleDocuments) {
  return (args: aws.iam.RoleArgs) => {
    args.name = role.name;
    args.description = role.description;
    const inline = { name: "bulkhead", policy: JSON.stringify(role.policy) };
    if ($dev) {
      args.inlinePolicies = $output(args.inlinePolicies ?? []).apply((existing) => [...existing, inline]);
      return;
    }
    args.assumeRolePolicy = JSON.stringify(role.trust);
    args.inlinePolicies = [inline];
    args.managedPolicyArns = [];
  };
}

/** One function per entry of the route table, its role generated from the route's access. */
export function routeFunctions(stage: Stage, links: Links) {
  return routes.map((route) => {
    const role = functionRole({ location: stage.location, platform: stage.platform, routeId: route.id, access: functionAccess(route) });
    const fn = new sst.aws.Function(`${logicalName(route.id)}Function`, {
      name: stage.platform.functionName(route.id),
      description: `${route.method} ${route.path}`,
      handler: handlerFile(route).replace(/\.ts$/, ".handler"),
      runtime: "nodejs24.x",
      architecture: "arm64",
      memory: "1024 MB",
      timeout: "10 seconds",
      nodejs: { format: "esm", minify: true },
      logging: { retention: "3 months", format: "json" },
      environment: { POWERTOOLS_LOG_LEVEL: "INFO" },
      link: linkNamesOf(route).map((name) => links[name]),
      transform: { role: ownRole(role) },
    });
    return { route, fn, role };
  });
}

export type RouteFunction = ReturnType<typeof routeFunctions>[number];
