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
  /** The role the apply task assumes to read one deployment's artifact (iam/artifact-reader.ts). */
  artifactReaderRoleArn: string;
  /** IAM path of the per-app build roles, so PassRole can be granted on that path alone. */
  buildRolePath: string;
  buildRolePermissionsBoundary?: string;
  /** The platform's own account as a deploy target. */
  hostedTarget: { roleArn: string; region: string; externalId: string };
};

type DeploymentsLink = Omit<DeploymentsConfig, "hostedTarget"> & { hostedTargetRoleArn: string; hostedTargetRegion: string };

let cached: DeploymentsConfig | undefined;

/**
 * Each link is read through `Resource` itself, as in ../config.ts: test/infra-contract.test.ts finds
 * a function's links by the `Resource.<Name>` reads in its bundle, and an alias would hide them.
 */
export function deploymentsConfig(): DeploymentsConfig {
  if (cached) return cached;
  const { hostedTargetRoleArn, hostedTargetRegion, ...rest } = (Resource as unknown as { Deployments: DeploymentsLink }).Deployments;
  const externalId = (Resource as unknown as { HostedTargetExternalId: { value: string } }).HostedTargetExternalId.value;
  cached = {
    region: rest.region,
    accountId: rest.accountId,
    stateMachineArn: rest.stateMachineArn,
    buildProject: rest.buildProject,
    artifactBucket: rest.artifactBucket,
    artifactReaderRoleArn: rest.artifactReaderRoleArn,
    buildRolePath: rest.buildRolePath,
    buildRolePermissionsBoundary: rest.buildRolePermissionsBoundary,
    hostedTarget: { roleArn: hostedTargetRoleArn, region: hostedTargetRegion, externalId },
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
