import { tenantTable } from "../data/tables.ts";
import { checkDeployGrant, deployNeedsGrant } from "../grants/check.ts";
import { taskError } from "../workflows/errors.ts";
import type { GrantCheck, GrantPort } from "./ports.ts";

/**
 * The grant gate of the deploy workflow, over the org's phased grants (grants/check.ts). Hosted
 * targets run in the platform's own account and need no grant. A BYOI target needs an ACTIVE
 * Deploy grant of the org for that very target, read consistently at every check; when the
 * caller pins the grant it found before AssumeRole, the check before applying passes only if
 * that same grant is still active, so a revocation, an expiry or a replacement in between stops
 * the release. A refusal is a grantDenied TaskError whose message is the reason the deployment
 * records: "no grant", "grant pending", "grant denied", "grant revoked" or "grant expired".
 */
export function deployGrants(now: () => Date = () => new Date()): GrantPort {
  return {
    async check(request: GrantCheck) {
      if (!deployNeedsGrant(request.target)) return {};
      const result = await checkDeployGrant(tenantTable(request.org), { targetId: request.target.id, at: now(), grantId: request.grantId });
      if (!result.ok) throw taskError("grantDenied", result.reason);
      return { grantId: result.grantId };
    },
  };
}
