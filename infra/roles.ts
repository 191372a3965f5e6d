import { deployerRole } from "../packages/core/src/iam/deploy.ts";
import type { RoleDocuments } from "../packages/core/src/iam/document.ts";
import { functionAccess } from "../packages/core/src/iam/platform.ts";
import { tenantDataRole } from "../packages/core/src/iam/tenant-data.ts";
import type { RouteFunction } from "./functions.ts";
import type { Stage } from "./stage.ts";

/** Role chaining caps sessions at an hour anyway; nothing the platform assumes needs longer. */
const MAX_SESSION_SECONDS = 3600;

const roleArgs = (role: RoleDocuments): aws.iam.RoleArgs => ({
  name: role.name,
  description: role.description,
  assumeRolePolicy: JSON.stringify(role.trust),
  inlinePolicies: [{ name: "bulkhead", policy: JSON.stringify(role.policy) }],
  maxSessionDuration: MAX_SESSION_SECONDS,
});

/**
 * The platform's own roles beyond each function's: the tenant data role (layer 4), trusted by
 * the org-scoped functions' roles only, and the deployer role the deploy tasks will run as.
 * Per-app runtime/build roles are created per app at runtime from the same module.
 */
export function platformRoles(stage: Stage, functions: RouteFunction[]) {
  const orgScoped = functions.filter((f) => functionAccess(f.route).tenantData);
  const tenantData = new aws.iam.Role(
    "TenantDataRole",
    roleArgs(tenantDataRole({ location: stage.location, platform: stage.platform, callerRoleArns: orgScoped.map((f) => f.role.arn) })),
    // IAM refuses a trust policy naming a role that does not exist yet.
    { dependsOn: orgScoped.map((f) => f.fn) },
  );
  const deployer = new aws.iam.Role("DeployerRole", roleArgs(deployerRole({ location: stage.location, platform: stage.platform })));
  return { tenantData, deployer };
}
