import { routes } from "../routes/index.ts";
import { appBuildRole, appRuntimeRole } from "./app-roles.ts";
import { arn, awsLocation } from "./arn.ts";
import { artifactReaderRole, artifactReadSessionPolicy } from "./artifact-reader.ts";
import { customerDeployRole, DEPLOY_SESSION_TAGS, deployerRole } from "./deploy.ts";
import type { RoleDocuments } from "./document.ts";
import { partitionAndBelow } from "./dynamodb.ts";
import { appNames, appScope, artifactKey, platformNames } from "./names.ts";
import { PHASES, phaseSessionPolicy, releaseSessionPolicy, type Phase } from "./phases.ts";
import { artifactBucketPolicy, functionAccess } from "./platform.ts";
import { tenantDataRole } from "./tenant-data.ts";

export type PolicyReportInput = {
  org: string;
  app: string;
  account: string;
  region: string;
  stage: string;
  /** The deploy target's account and region; default: the platform's own (a hosted target). */
  targetAccount?: string;
  targetRegion?: string;
  /** The target's ExternalId; a visible placeholder when absent. */
  externalId?: string;
};

export const EXTERNAL_ID_PLACEHOLDER = "REPLACE-WITH-THE-TARGETS-GENERATED-EXTERNAL-ID";
/** The release session policy is per deployment; the report shows it for an example deployment id. */
export const EXAMPLE_DEPLOYMENT_ID = "01J00000000000000000000000";

export type PolicyReport = ReturnType<typeof policyReport>;

/**
 * Every IAM document that concerns one app, with the names and ARNs of what it owns: the object
 * `npm run policies` prints for a reviewer, and the one the simulator tests walk.
 */
export function policyReport(input: PolicyReportInput) {
  const scope = appScope(input);
  const location = awsLocation(input);
  const target = awsLocation({ account: input.targetAccount ?? input.account, region: input.targetRegion ?? input.region });
  const platform = platformNames({ stage: input.stage, account: location.account, region: location.region });
  const n = appNames(scope);
  const appInput = { location, scope, table: platform.table, artifactBucket: platform.artifactBucket };
  const exampleArtifact = artifactKey(n, EXAMPLE_DEPLOYMENT_ID);

  const orgFunctionRoles = routes
    .filter((route) => functionAccess(route).tenantData)
    .map((route) => arn.role(location, platform.functionRole(route.id)));
  const deployer = deployerRole({ location, platform });
  const customerDeploy = customerDeployRole({
    target,
    scope,
    deployerRoleArn: deployer.arn,
    externalId: input.externalId ?? EXTERNAL_ID_PLACEHOLDER,
  });
  const phase = (p: Phase): RoleDocuments => ({
    kind: "session-policy",
    name: customerDeploy.name,
    arn: customerDeploy.arn,
    description: `Session policy of the ${p} phase, passed on AssumeRole of the org's deploy role`,
    policy: phaseSessionPolicy(p, target),
    sessionTags: [...DEPLOY_SESSION_TAGS],
  });

  const resources = {
    org: scope.org,
    app: scope.app,
    key: n.key,
    account: location.account,
    region: location.region,
    credentialStore: { name: n.credentialStoreSecret, arn: arn.secret(location, n.credentialStoreSecret) },
    artifacts: {
      bucket: platform.artifactBucket,
      prefix: n.artifactPrefix,
      arn: arn.objects(location, platform.artifactBucket, n.artifactPrefix),
      bucketPolicy: artifactBucketPolicy(location, platform.artifactBucket),
    },
    registryRepository: { name: n.repository, arn: arn.repository(location, n.repository) },
    logGroups: {
      runtime: { name: n.runtimeLogGroup, arn: arn.logGroup(location, n.runtimeLogGroup) },
      build: { name: n.buildLogGroup, arn: arn.logGroup(location, n.buildLogGroup) },
    },
    metricsNamespace: n.metricsNamespace,
    table: { name: platform.table, arn: arn.table(location, platform.table), partitions: partitionAndBelow(n.dataPartition) },
    compute: {
      /** In the deploy target's account: the function the deploy workflow releases to, and its live alias. */
      releaseFunction: { name: n.releaseFunction, alias: n.releaseAlias, arn: arn.lambda(target, n.releaseFunction) },
      functionPrefix: n.functionPrefix,
      arn: arn.lambda(target, `${n.functionPrefix}*`),
    },
  };

  const roles: Record<string, RoleDocuments> = {
    runtime: appRuntimeRole(appInput),
    build: appBuildRole({ location, scope, artifactBucket: platform.artifactBucket, buildProject: platform.buildProject }),
    tenantData: tenantDataRole({ location, platform, callerRoleArns: orgFunctionRoles }),
    deployer,
    artifactReader: artifactReaderRole({ location, platform }),
    artifactRead: {
      kind: "session-policy",
      name: platform.artifactReaderRole,
      arn: arn.role(location, platform.artifactReaderRole),
      description: `Session policy the apply task passes to read deployment ${EXAMPLE_DEPLOYMENT_ID}'s artifact (an example id)`,
      policy: artifactReadSessionPolicy(location, { bucket: platform.artifactBucket, key: exampleArtifact }),
      sessionTags: [...DEPLOY_SESSION_TAGS],
    },
    customerDeploy,
    ...Object.fromEntries(PHASES.map((p) => [`phase:${p}`, phase(p)])),
    release: {
      kind: "session-policy",
      name: customerDeploy.name,
      arn: customerDeploy.arn,
      description: "Session policy the deploy workflow passes to apply a release: the Deploy phase narrowed to the app's release function",
      policy: releaseSessionPolicy({ target, scope }),
      sessionTags: [...DEPLOY_SESSION_TAGS],
    },
  };
  return { resources, roles };
}
