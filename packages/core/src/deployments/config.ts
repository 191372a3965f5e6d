import { Resource } from "sst/resource";

/**
 * What the deployment workflows need from infra, linked as `Deployments` (a Linkable) and
 * `HostedTargetExternalId` (a Secret), read through `Resource` like the rest of config.ts.
 */
export type DeploymentsConfig = {
  region: string;
  accountId: string;
  stateMachineArn: string;
  buildProject: string;
  /** Shared object store: sources and artifacts, each app confined to `<org>/<app>/` by IAM. */
  artifactBucket: string;
  /** IAM path of the per-app build roles, so PassRole can be granted on that path alone. */
  buildRolePath: string;
  buildRolePermissionsBoundary?: string;
  /** The platform's own account as a deploy target. */
  hostedTarget: { roleArn: string; region: string; externalId: string };
};

type Linked = {
  Deployments: Omit<DeploymentsConfig, "hostedTarget"> & { hostedTargetRoleArn: string; hostedTargetRegion: string };
  HostedTargetExternalId: { value: string };
};

let cached: DeploymentsConfig | undefined;

export function deploymentsConfig(): DeploymentsConfig {
  if (cached) return cached;
  const linked = Resource as unknown as Linked;
  const { hostedTargetRoleArn, hostedTargetRegion, ...rest } = linked.Deployments;
  cached = {
    region: rest.region,
    accountId: rest.accountId,
    stateMachineArn: rest.stateMachineArn,
    buildProject: rest.buildProject,
    artifactBucket: rest.artifactBucket,
    buildRolePath: rest.buildRolePath,
    buildRolePermissionsBoundary: rest.buildRolePermissionsBoundary,
    hostedTarget: { roleArn: hostedTargetRoleArn, region: hostedTargetRegion, externalId: linked.HostedTargetExternalId.value },
  };
  return cached;
}

/** The `SST_RESOURCE_*` variables for this config: what the offline runtime exports. */
export function deploymentsLinkEnvironment(c: DeploymentsConfig): Record<string, string> {
  const { hostedTarget, ...rest } = c;
  return {
    SST_RESOURCE_Deployments: JSON.stringify({
      type: "sst.sst.Linkable",
      ...rest,
      hostedTargetRoleArn: hostedTarget.roleArn,
      hostedTargetRegion: hostedTarget.region,
    }),
    SST_RESOURCE_HostedTargetExternalId: JSON.stringify({ type: "sst.sst.Secret", value: hostedTarget.externalId }),
  };
}
