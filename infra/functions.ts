import type { RoleDocuments } from "../packages/core/src/iam/document.ts";
import { arn } from "../packages/core/src/iam/arn.ts";
import { functionAccess, functionRole, type FunctionCalls } from "../packages/core/src/iam/platform.ts";
import { handlerFile, routes, type RouteId } from "../packages/core/src/routes/index.ts";
import type { RouteDef } from "../packages/core/src/routes/types.ts";
import { NODEJS_BUNDLING } from "./bundling.ts";
import type { CheckpointKey, LinkName, Links } from "./links.ts";
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
  "deployments.create": ["Deployments", "HostedTargetExternalId"],
  "deployments.cancel": ["Deployments", "HostedTargetExternalId"],
  "deployments.list": ["CursorKey"],
  "sources.create": ["Sources"],
  "sources.list": ["CursorKey"],
  "targets.create": ["Deployer"],
  "targets.list": ["CursorKey"],
  "grants.list": ["CursorKey"],
  "audit.list": ["CursorKey"],
  "audit.export": ["CursorKey"],
  "audit.verify": ["AuditCheckpointKey"],
  "audit.heads": ["AuditCheckpointKey", "CursorKey"],
  "audit.checkpoints": ["AuditCheckpointKey", "CursorKey"],
};

/**
 * What each route's code calls beyond its table (packages/core/src/iam/platform.ts turns these
 * into statements on one resource each). Credential routes reach Secrets Manager through the
 * tenant data role, so they need nothing here.
 */
type RouteCalls = { checkpointKey?: "read" | "sign"; deploymentExecutions?: FunctionCalls["deploymentExecutions"]; sourceUploads?: boolean; buildLogs?: boolean };
const ROUTE_CALLS: Partial<Record<RouteId, RouteCalls>> = {
  // Only the audit sequencer signs (infra/audit.ts); these read the public key.
  "audit.verify": { checkpointKey: "read" },
  "audit.heads": { checkpointKey: "read" },
  "audit.checkpoints": { checkpointKey: "read" },
  "deployments.create": { deploymentExecutions: ["start"] },
  "deployments.cancel": { deploymentExecutions: ["stop"] },
  "deployments.get": { buildLogs: true }, // a running build's log so far
  "sources.create": { sourceUploads: true }, // signs the presigned POST of one source ZIP
};

const linkNamesOf = (route: Pick<RouteDef, "id">): LinkName[] => [
  ...EVERY_HANDLER,
  ...(ROUTE_LINKS[route.id as RouteId] ?? []),
];

/** `apps.list` → `AppsList`: SST's logical names are alphanumeric. */
export const logicalName = (id: string) => id.split(/[.-]/).map((part) => part[0]!.toUpperCase() + part.slice(1)).join("");

/**
 * SST creates each function's role; this replaces its trust, inline policy and managed
 * policies (AWSLambdaBasicExecutionRole writes any log group) with the generated documents.
 * Under `sst dev` the function is a stub relaying to the developer's machine and needs SST's
 * own statements and trust, so those stay and the platform's policy is added.
 */
export function ownRole(name: string, documents: $util.Input<RoleDocuments>) {
  return (args: aws.iam.RoleArgs) => {
    const role = $output(documents);
    args.name = name;
    args.description = role.apply((r) => r.description);
    const inline = role.apply((r) => ({ name: "bulkhead", policy: JSON.stringify(r.policy) }));
    if ($dev) {
      args.inlinePolicies = $output(args.inlinePolicies ?? []).apply((existing) => inline.apply((own) => [...existing, own]));
      return;
    }
    args.assumeRolePolicy = role.apply((r) => JSON.stringify(r.trust));
    args.inlinePolicies = inline.apply((own) => [own]);
    args.managedPolicyArns = [];
  };
}

/** Runtime and bundling of every function the platform deploys: routes and workflow tasks. */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs24.x",
  architecture: "arm64",
  memory: "1024 MB",
  nodejs: NODEJS_BUNDLING,
  logging: { retention: "3 months", format: "json" },
  environment: { POWERTOOLS_LOG_LEVEL: "INFO" },
} as const satisfies Partial<sst.aws.FunctionArgs>;

/** One function per entry of the route table, its role generated from the route's access. */
export function routeFunctions(stage: Stage, links: Links, checkpointKey: CheckpointKey) {
  return routes.map((route) => {
    const wanted = ROUTE_CALLS[route.id as RouteId] ?? {};
    const roleWith = (calls: FunctionCalls) =>
      functionRole({ location: stage.location, platform: stage.platform, routeId: route.id, access: functionAccess(route), calls });
    const base = { deploymentExecutions: wanted.deploymentExecutions, sourceUploads: wanted.sourceUploads, buildLogs: wanted.buildLogs };
    // The key's ARN is known only once KMS made it.
    const role: $util.Input<RoleDocuments> = wanted.checkpointKey
      ? checkpointKey.arn.apply((keyArn) => roleWith({ ...base, checkpointKey: { arn: keyArn, sign: wanted.checkpointKey === "sign" } }))
      : roleWith(base);
    const roleName = stage.platform.functionRole(route.id);
    const fn = new sst.aws.Function(`${logicalName(route.id)}Function`, {
      ...FUNCTION_DEFAULTS,
      name: stage.platform.functionName(route.id),
      description: `${route.method} ${route.path}`,
      handler: handlerFile(route).replace(/\.ts$/, ".handler"),
      timeout: "10 seconds",
      link: linkNamesOf(route).map((name) => links[name]),
      transform: { role: ownRole(roleName, role) },
    });
    return { route, fn, roleArn: arn.role(stage.location, roleName) };
  });
}

export type RouteFunction = ReturnType<typeof routeFunctions>[number];
