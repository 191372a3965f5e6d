import { Resource } from "sst/resource";

/**
 * Linked resources, read through SST's `Resource` so one handler body runs deployed, under
 * `sst dev`, and offline (which supplies the same `SST_RESOURCE_<Name>` variables).
 *
 * Each link has its own accessor, read on first use: a function is linked only to what its code
 * can reach (test/infra-contract.test.ts derives that from each handler's bundle), and reading a
 * link the function lacks throws.
 */
export type Config = {
  tableName: string;
  baseDomain: string;
  auth: { issuer: string; audience: string; jwksUri: string };
  cursorKey: string;
};

type Linked = {
  Table: { name: string };
  Platform: { baseDomain: string };
  Auth: { issuer: string; audience: string; jwksUri: string };
  CursorKey: { value: string };
  TenantData: { roleArn: string };
};

export const tableName = (): string => (Resource as unknown as Linked).Table.name;

export const baseDomain = (): string => (Resource as unknown as Linked).Platform.baseDomain.toLowerCase();

export function authConfig(): Config["auth"] {
  const { issuer, audience, jwksUri } = (Resource as unknown as Linked).Auth;
  return { issuer, audience, jwksUri };
}

export const cursorKey = (): string => (Resource as unknown as Linked).CursorKey.value;

/** The role org-scoped functions assume per org (layer 4); NO_TENANT_ROLE offline. */
export const tenantDataRoleArn = (): string => (Resource as unknown as Linked).TenantData.roleArn;

/** Offline there is no role to assume: DynamoDB Local ignores credentials. */
export const NO_TENANT_ROLE = "none";

/** Every link at once, each read when its property is. Reaches every link: handlers use the accessors. */
export function config(): Config {
  return {
    get tableName() { return tableName(); },
    get baseDomain() { return baseDomain(); },
    get auth() { return authConfig(); },
    get cursorKey() { return cursorKey(); },
  };
}

/** The `SST_RESOURCE_*` variables for a config: what the offline runtime and tests export. */
export function linkEnvironment(c: Config): Record<string, string> {
  const link = (type: string, value: object) => JSON.stringify({ type, ...value });
  return {
    SST_RESOURCE_App: JSON.stringify({ name: "bulkhead", stage: "local" }),
    SST_RESOURCE_Table: link("sst.aws.Dynamo", { name: c.tableName }),
    SST_RESOURCE_Platform: link("sst.sst.Linkable", { baseDomain: c.baseDomain }),
    SST_RESOURCE_Auth: link("sst.sst.Linkable", c.auth),
    SST_RESOURCE_CursorKey: link("sst.sst.Secret", { value: c.cursorKey }),
    SST_RESOURCE_TenantData: link("sst.sst.Linkable", { roleArn: NO_TENANT_ROLE }),
  };
}
