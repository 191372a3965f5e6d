import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, ITEM_READ_ACTIONS, leadingKeys, partitionAndBelow } from "./dynamodb.ts";
import { appNames, type AppScope } from "./names.ts";
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

/** The identity an app's build runs as: write its artifact prefix, push its repository, write its build log. */
export function appBuildRole(input: AppRoleInput): RoleDocuments {
  const { location: l, scope } = input;
  const n = appNames(scope);
  const policy = policyDocument([
    { Sid: "WriteOwnArtifacts", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: [arn.objects(l, input.artifactBucket, n.artifactPrefix)] },
    { Sid: "PushOwnRepository", Effect: "Allow", Action: [...ECR_PUSH_ACTIONS, ...ECR_PULL_ACTIONS], Resource: [arn.repository(l, n.repository)] },
    // AWS requires "*": GetAuthorizationToken has no resource type. The token alone grants nothing;
    // every push is checked against PushOwnRepository.
    { Sid: "RegistryLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
    { Sid: "WriteBuildLogs", Effect: "Allow", Action: [...LOG_WRITE_ACTIONS], Resource: [arn.logStreams(l, n.buildLogGroup)] },
  ]);
  return {
    kind: "role",
    name: n.buildRole,
    arn: arn.role(l, n.buildRole),
    description: `Build of app ${scope.org}/${scope.app}`,
    policy,
    trust: codeBuildTrust(l.account, arn.codeBuildProject(l, n.buildProject)),
    sessionTags: [],
  };
}
