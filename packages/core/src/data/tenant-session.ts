/**
 * The only session tag the tenant data role accepts (iam/tenant-data.ts): the org the request's
 * host resolved to, which tenantCredentials (tenant-credentials.ts) tags every session with.
 */
export const TENANT_SESSION_TAG = "org";
