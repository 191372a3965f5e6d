import { Resource } from "sst/resource";

/**
 * Linked resources, read through SST's `Resource` so one handler body runs deployed, under
 * `sst dev`, and offline (which supplies the same `SST_RESOURCE_<Name>` variables).
 */
export type Config = {
  tableName: string;
  baseDomain: string;
  auth: { issuer: string; audience: string; jwksUri: string };
  cursorKey: string;
  /** The platform role that assumes BYOI deploy roles: the principal of their trust policies. */
  deployerRoleArn: string;
};

type Linked = {
  Table: { name: string };
  Platform: { baseDomain: string };
  Auth: { issuer: string; audience: string; jwksUri: string };
  CursorKey: { value: string };
  Deployer: { roleArn: string };
};

let cached: Config | undefined;

export function config(): Config {
  if (cached) return cached;
  const linked = Resource as unknown as Linked;
  cached = {
    tableName: linked.Table.name,
    baseDomain: linked.Platform.baseDomain.toLowerCase(),
    auth: { issuer: linked.Auth.issuer, audience: linked.Auth.audience, jwksUri: linked.Auth.jwksUri },
    cursorKey: linked.CursorKey.value,
    // Read on first use: only the functions that need it (targets.create) are linked to it.
    get deployerRoleArn() {
      return linked.Deployer.roleArn;
    },
  };
  return cached;
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
    SST_RESOURCE_Deployer: link("sst.sst.Linkable", { roleArn: c.deployerRoleArn }),
  };
}
