import { isOrgSlug } from "../ids.ts";

/**
 * How deploy roles are named: the one rule the deployer's policy (deploy.ts), the generated
 * customer documents and the targets API all follow. Its own module, so the API's schemas can
 * use it without bundling the policy builders.
 */
const DEPLOY_ROLE_PREFIX = "bulkhead-deploy-";

/** The role each org's deploy target exposes (in a customer's account, or the platform's for hosted targets). */
export const customerDeployRoleName = (org: string): string => `${DEPLOY_ROLE_PREFIX}${org}`;

/** The naming rule in words, for refusals and for the customer's setup instructions. */
export const DEPLOY_ROLE_NAME_RULE =
  `the deploy role must be named ${customerDeployRoleName("<org>")} after the org's slug, with no IAM path: the platform's deployer may assume no other role`;

/**
 * Whether a customer's role (its path and name, as in its ARN) follows the convention: no path,
 * and `bulkhead-deploy-<org>` for `org`, or for any org slug when `org` is omitted. A path would
 * put `role/<path>/` before the name, outside what the deployer may assume; the hosted target's
 * `_` never occurs in a slug, so no customer role can be named like it.
 */
export function isCustomerDeployRole(role: { path: string; name: string }, org?: string): boolean {
  if (role.path !== "/" || !role.name.startsWith(DEPLOY_ROLE_PREFIX)) return false;
  const named = role.name.slice(DEPLOY_ROLE_PREFIX.length);
  return org === undefined ? isOrgSlug(named) : named === org;
}
