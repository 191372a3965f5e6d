import type { DeploymentsConfig } from "./config.ts";
import { ARTIFACT_NAME, artifactPath, sourceObjectKey, type AppNames } from "../iam/names.ts";
import type { BuildSettings } from "../schemas.ts";

/** Used when an app has no build command: the artifact is the source as uploaded. */
export const DEFAULT_BUILD_COMMAND = "echo 'No build command is set: the artifact is the source as uploaded.'";

/**
 * Everything RunBuild needs, produced by PrepareBuild and passed into CodeBuild's StartBuild by the
 * state machine (and into the offline sandbox, which reads the same request). Nothing in it is
 * secret: it is part of the execution history.
 */
export type BuildSpec = {
  projectName: string;
  /** The source ZIP, as CodeBuild's S3 source takes it: `<bucket>/<org>/<app>/sources/<ref>.zip` (iam/names.ts sourceObjectKey). */
  sourceLocation: string;
  serviceRoleArn: string;
  /** CodeBuild buildspec. JSON is valid YAML, so it needs no YAML library on either side. */
  buildspec: string;
  environment: { Name: string; Value: string; Type: "PLAINTEXT" }[];
  artifactBucket: string;
  artifactPath: string;
  artifactName: string;
  logGroup: string;
  /** CodeBuild appends the build's own id to this prefix. */
  logStreamPrefix: string;
  imageRepository: string;
  timeoutMinutes: number;
  queuedTimeoutMinutes: number;
  /** The app's build role was just created: IAM needs a moment before CodeBuild can assume it. */
  roleCreated: boolean;
};

export function buildspecFor(settings: BuildSettings | undefined): string {
  return JSON.stringify({
    version: 0.2,
    phases: { build: { commands: [settings?.command ?? DEFAULT_BUILD_COMMAND] } },
    artifacts: { files: ["**/*"] },
  });
}

export function prepareBuildSpec(input: {
  names: AppNames;
  deploymentId: string;
  sourceRef: string;
  settings: BuildSettings | undefined;
  role: { arn: string; created: boolean };
  limits: { timeoutMinutes: number; queuedTimeoutMinutes: number };
  config: Pick<DeploymentsConfig, "buildProject" | "artifactBucket">;
}): BuildSpec {
  const { names, deploymentId, config } = input;
  return {
    projectName: config.buildProject,
    sourceLocation: `${config.artifactBucket}/${sourceObjectKey(names.org, names.app, input.sourceRef)}`,
    serviceRoleArn: input.role.arn,
    buildspec: buildspecFor(input.settings),
    environment: [
      { Name: "BULKHEAD_ORG", Value: names.org, Type: "PLAINTEXT" },
      { Name: "BULKHEAD_APP", Value: names.app, Type: "PLAINTEXT" },
      { Name: "BULKHEAD_DEPLOYMENT", Value: deploymentId, Type: "PLAINTEXT" },
      { Name: "BULKHEAD_SOURCE_REF", Value: input.sourceRef, Type: "PLAINTEXT" },
      { Name: "BULKHEAD_IMAGE_REPOSITORY", Value: names.repository, Type: "PLAINTEXT" },
    ],
    artifactBucket: config.artifactBucket,
    artifactPath: artifactPath(names, deploymentId),
    artifactName: ARTIFACT_NAME,
    logGroup: names.buildLogGroup,
    logStreamPrefix: deploymentId,
    imageRepository: names.repository,
    timeoutMinutes: input.limits.timeoutMinutes,
    queuedTimeoutMinutes: input.limits.queuedTimeoutMinutes,
    roleCreated: input.role.created,
  };
}
