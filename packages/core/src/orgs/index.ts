/**
 * The orgs domain as the rest of the code uses it: the registry of orgs, their status and limits,
 * and the cached lookup that tenant resolution and the quotas read (orgs.ts).
 */
export { createOrg, limitsOf, lookupOrg, type Org, orgView, readOrg, setOrgStatus, updateOrg } from "./orgs.ts";
