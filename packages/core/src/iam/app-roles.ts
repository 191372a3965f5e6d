import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, ITEM_READ_ACTIONS, leadingKeys, partitionAndBelow } from "./dynamodb.ts";
import { appNames, BUILD_ROLE_PATH, type AppScope } from "./names.ts";
import { codeBuildTrust, lambdaTrust } from "./trust.ts";

/** Where an app's roles live: the account's table and artifact bucket (the platform's, or a customer's). */
export type AppRoleInput = {
  location: AwsLocation;
  scope: AppScope;
  table: string;
  artifactBucket: string;
};

export const ECR_PUSH_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
] as const;
/** Builds pull cached layers of their own repository. */
export const ECR_PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] as const;

const LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

/**
 * The identity a deployed app runs as: its own KEK, its artifacts read-only, its runtime log
 * group, its metrics namespace and its own DynamoDB partitions (read-only: writes go through the
 * audited API). Nothing it can name belongs to another app.
 */
export function appRuntimeRole(input: AppRoleInput): RoleDocuments {
  const { location: l, scope } = input;
  const n = appNames(scope);
  const table = arn.table(l, input.table);
  const policy = policyDocument([
    { Sid: "ReadOwnKek", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [arn.secret(l, n.credentialStoreSecret)] },
    { Sid: "ReadOwnArtifacts", Effect: "Allow", Action: ["s3:GetObject"], Resource: [arn.objects(l, input.artifactBucket, n.artifactPrefix)] },
    {
      Sid: "ListOwnArtifacts",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [arn.bucket(l, input.artifactBucket)],
      Condition: { StringLike: { "s3:prefix": [`${n.artifactPrefix}*`] } },
    },
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: [...LOG_WRITE_ACTIONS], Resource: [arn.logStreams(l, n.runtimeLogGroup)] },
    {
      Sid: "PutOwnMetrics",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricData"],
      // AWS requires "*": PutMetricData has no resource type. The namespace condition scopes it.
      Resource: ["*"],
      Condition: { StringEquals: { "cloudwatch:namespace": n.metricsNamespace } },
    },
    { Sid: "ReadOwnItems", Effect: "Allow", Action: [...ITEM_READ_ACTIONS], Resource: [table], Condition: leadingKeys(partitionAndBelow(n.dataPartition)) },
    denyScan([table, arn.tableIndexes(l, input.table)]),
  ]);
  return {
    kind: "role",
    name: n.runtimeRole,
    arn: arn.role(l, n.runtimeRole),
    description: `Runtime of app ${scope.org}/${scope.app}`,
    policy,
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

export type AppBuildRoleInput = {
  /** The platform's account and region: builds run there, whatever the deploy target. */
  location: AwsLocation;
  scope: AppScope;
  artifactBucket: string;
  /** The platform's build project: every app's build runs in it under that app's role. */
  buildProject: string;
};

/** What one build may do to its own sources (read) and its own artifact prefix (write). */
const SOURCE_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"] as const;
export const ARTIFACT_WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload"] as const;
/** CodeBuild reads the bucket's location and ACL before it uploads an artifact. */
export const ARTIFACT_BUCKET_READS = ["s3:GetBucketAcl", "s3:GetBucketLocation"] as const;
export const BUILD_LOG_ACTIONS = ["logs:CreateLogGroup", ...LOG_WRITE_ACTIONS] as const;

/**
 * The identity an app's build runs as, which the deploy workflow creates (or converges) before each
 * build: read its own sources, write its own artifact prefix but never its sources, push its own
 * repository, write its own build log group. Nothing of another app, no table, no secret, no IAM.
 * Capped further by the build boundary (workflows.ts buildRoleBoundary).
 */
export function appBuildRole(input: AppBuildRoleInput): RoleDocuments {
  const { location: l, scope } = input;
  const n = appNames(scope);
  const bucket = arn.bucket(l, input.artifactBucket);
  const sources = arn.objects(l, input.artifactBucket, n.sourcePrefix);
  const policy = policyDocument([
    { Sid: "ReadOwnSources", Effect: "Allow", Action: [...SOURCE_READ_ACTIONS], Resource: [sources] },
    { Sid: "ListOwnSources", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucket], Condition: { StringLike: { "s3:prefix": [`${n.sourcePrefix}*`] } } },
    { Sid: "WriteOwnArtifacts", Effect: "Allow", Action: [...ARTIFACT_WRITE_ACTIONS], Resource: [arn.objects(l, input.artifactBucket, n.artifactPrefix)] },
    // The sources lie inside the artifact prefix: what was uploaded is what gets built, so never rewritten.
    { Sid: "NeverRewriteSources", Effect: "Deny", Action: [...ARTIFACT_WRITE_ACTIONS, "s3:DeleteObject"], Resource: [sources] },
    { Sid: "ArtifactBucketLocation", Effect: "Allow", Action: [...ARTIFACT_BUCKET_READS], Resource: [bucket] },
    { Sid: "PushOwnRepository", Effect: "Allow", Action: [...ECR_PUSH_ACTIONS, ...ECR_PULL_ACTIONS], Resource: [arn.repository(l, n.repository)] },
    // AWS requires "*": GetAuthorizationToken has no resource type. The token alone grants nothing;
    // every push is checked against PushOwnRepository.
    { Sid: "RegistryLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
    { Sid: "WriteBuildLogs", Effect: "Allow", Action: [...BUILD_LOG_ACTIONS], Resource: [arn.logGroup(l, n.buildLogGroup), arn.logStreams(l, n.buildLogGroup)] },
  ]);
  return {
    kind: "role",
    name: n.buildRole,
    arn: arn.role(l, `${BUILD_ROLE_PATH.slice(1)}${n.buildRole}`),
    description: `Build of app ${scope.org}/${scope.app}`,
    policy,
    trust: codeBuildTrust(l.account, arn.codeBuildProject(l, input.buildProject)),
    sessionTags: [],
  };
}
