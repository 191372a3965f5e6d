import type { DeploymentsConfig } from "./config.ts";
import type { AppNames } from "./names.ts";
import type { PolicyDocument, ResolvedTarget } from "./ports.ts";

/**
 * IAM documents of the deployment workflows, in one place so the cloud adapters and the offline
 * stand-ins enforce the same ones.
 *
 * Interim owner: the isolation work is writing the platform's policy module in
 * packages/core/src/iam/. When it lands, these builders move there (or call it) unchanged in
 * effect; nothing else in the workflows builds a policy.
 */

const VERSION = "2012-10-17" as const;

/** CodeBuild may assume an app's build role only for the platform's own build project. */
export function buildRoleTrustPolicy(config: Pick<DeploymentsConfig, "region" | "accountId" | "buildProject">): PolicyDocument {
  return {
    Version: VERSION,
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "codebuild.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: {
        StringEquals: { "aws:SourceAccount": config.accountId },
        ArnLike: { "aws:SourceArn": `arn:aws:codebuild:${config.region}:${config.accountId}:project/${config.buildProject}` },
      },
    }],
  };
}

/**
 * What one app's build may touch: its own sources (read), its own artifact prefix (write, never its
 * sources), its own image repository and its own build log group. Nothing else: no other app's
 * prefix, no table, no secrets of other apps, no IAM or STS.
 */
export function buildRolePolicy(names: AppNames, config: Pick<DeploymentsConfig, "region" | "accountId" | "artifactBucket">): PolicyDocument {
  const { region, accountId, artifactBucket } = config;
  const logGroup = `arn:aws:logs:${region}:${accountId}:log-group:${names.buildLogGroup}`;
  return {
    Version: VERSION,
    Statement: [
      { Sid: "ReadOwnSources", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: `arn:aws:s3:::${artifactBucket}/${names.sourcePrefix}*` },
      { Sid: "ListOwnSources", Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${artifactBucket}`,
        Condition: { StringLike: { "s3:prefix": [`${names.sourcePrefix}*`] } } },
      { Sid: "WriteOwnArtifacts", Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::${artifactBucket}/${names.artifactPrefix}*` },
      { Sid: "ArtifactBucketLocation", Effect: "Allow", Action: ["s3:GetBucketAcl", "s3:GetBucketLocation"], Resource: `arn:aws:s3:::${artifactBucket}` },
      { Sid: "NeverRewriteSources", Effect: "Deny", Action: ["s3:PutObject", "s3:DeleteObject"],
        Resource: `arn:aws:s3:::${artifactBucket}/${names.sourcePrefix}*` },
      { Sid: "OwnBuildLogs", Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup, `${logGroup}:*`] },
      // ECR's token call has no resource; what it allows is limited by the repository statement below.
      { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      { Sid: "OwnImageRepository", Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
        Resource: `arn:aws:ecr:${region}:${accountId}:repository/${names.imageRepository}` },
      { Sid: "NoPrivilegeChanges", Effect: "Deny", Action: ["iam:*", "sts:*", "organizations:*", "dynamodb:*", "kms:Decrypt"], Resource: "*" },
    ],
  };
}

/**
 * The session policy for the Deploy phase. The session's permissions are the intersection of the
 * target role's policy and this one: whatever the customer's role allows, this session may only
 * update this app's function and read this deployment's artifact, and never delete anything.
 */
export function deploySessionPolicy(names: AppNames, target: ResolvedTarget, artifact: { bucket: string; key: string }): PolicyDocument {
  const fn = `arn:aws:lambda:${target.region}:${target.accountId}:function:${names.functionName}`;
  return {
    Version: VERSION,
    Statement: [
      { Sid: "UpdateThisApp", Effect: "Allow",
        Action: ["lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:GetAlias", "lambda:UpdateAlias"],
        Resource: [fn, `${fn}:*`] },
      { Sid: "ReadThisArtifact", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${artifact.bucket}/${artifact.key}` },
      { Sid: "NothingDestructive", Effect: "Deny",
        Action: ["lambda:Delete*", "lambda:RemovePermission", "lambda:AddPermission", "lambda:PutFunctionConcurrency", "iam:*", "sts:*", "s3:Delete*"],
        Resource: "*" },
    ],
  };
}

/** Session tags: CloudTrail in the target account shows which org, app and deployment acted. */
export const sessionTags = (org: string, appId: string, deploymentId: string) => [
  { key: "org", value: org },
  { key: "app", value: appId },
  { key: "deployment", value: deploymentId },
];

/** STS limits a packed session policy to 2,048 characters; fail here, not at AssumeRole. */
export const MAX_SESSION_POLICY_CHARS = 2048;
