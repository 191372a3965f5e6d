import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildRolePort } from "@bulkhead/core/deployments/ports";

/**
 * Offline stand-in for the IAM calls that ensure an app's build role: it writes the role (trust,
 * policy, tags) to `<root>/<path>/<name>.json`, so what the cloud would create can be read there.
 * It grants nothing: offline, the sandbox's limits stand in for the role's.
 */
export function buildRolesStandIn(options: { root: string; accountId: string }): BuildRolePort {
  return {
    async ensure(request) {
      const name = request.names.buildRole;
      const dir = join(options.root, ...request.path.split("/").filter(Boolean));
      const file = join(dir, `${name}.json`);
      const created = !existsSync(file);
      mkdirSync(dir, { recursive: true });
      const arn = `arn:aws:iam::${options.accountId}:role${request.path}${name}`;
      writeFileSync(file, `${JSON.stringify({
        arn,
        trustPolicy: request.trustPolicy,
        policy: request.policy,
        permissionsBoundary: request.permissionsBoundary,
        tags: { "bulkhead:org": request.names.org, "bulkhead:app": request.names.app },
      }, null, 2)}\n`);
      return { arn, created };
    },
  };
}
