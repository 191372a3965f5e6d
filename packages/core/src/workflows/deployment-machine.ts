import type { Catcher, Retrier, StateMachineDefinition, TaskState } from "./asl.ts";
import { TASK_ERRORS } from "./errors.ts";
import { executionTimeoutSeconds, runBuildTimeoutSeconds, type WorkflowOptions } from "./options.ts";
import type { StateTaskId, TaskResources } from "./tasks.ts";

/**
 * The deployment state machine: the ephemeral per-app build, then the cross-account deploy, in
 * one execution named by the deployment id. Authored once here; infra deploys this JSON and the
 * offline runtime runs the same JSON with aws-local-stepfunctions.
 */
export const STATES = {
  beginBuild: "BeginBuild",
  prepareBuild: "PrepareBuild",
  newBuildRole: "NewBuildRole",
  waitForBuildRole: "WaitForBuildRole",
  runBuild: "RunBuild",
  destroyBuildEnvironment: "DestroyBuildEnvironment",
  buildOutcome: "BuildOutcome",
  recordArtifact: "RecordArtifact",
  checkTarget: "CheckTarget",
  applyRelease: "ApplyRelease",
  recordSuccess: "RecordSuccess",
  recordFailure: "RecordFailure",
  succeeded: "DeploymentSucceeded",
  failed: "DeploymentFailed",
} as const;

/** Which task each Lambda Task state runs: the offline runtime binds by this map too. */
export const STATE_TASKS: Record<string, StateTaskId> = {
  [STATES.beginBuild]: "deployments.begin-build",
  [STATES.prepareBuild]: "builds.prepare",
  [STATES.destroyBuildEnvironment]: "builds.destroy",
  [STATES.recordArtifact]: "builds.record",
  [STATES.checkTarget]: "deploys.check-target",
  [STATES.applyRelease]: "deploys.apply",
  [STATES.recordSuccess]: "deployments.succeed",
  [STATES.recordFailure]: "deployments.fail",
};

/**
 * Step Functions' CodeBuild integration, in the partition of the task functions the machine
 * invokes: their ARNs come from the stage's location (iam/arn.ts), so the definition carries no
 * partition of its own and cannot disagree with them (aws-cn, aws-us-gov).
 */
export function codeBuildStartBuildSync(resources: TaskResources): string {
  const partitions = new Set(Object.values(resources).map((resource) => /^arn:(aws[a-z-]*):lambda:/.exec(resource)?.[1]));
  const [partition, ...others] = partitions;
  if (!partition || others.length) throw new Error(`task resources must be Lambda ARNs of one partition, got ${[...partitions].join(", ")}`);
  return `arn:${partition}:states:::codebuild:startBuild.sync`;
}

/** Errors Lambda itself may raise around an invocation; AWS recommends retrying them. */
const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
];
/** CodeBuild refuses a StartBuild over the account's concurrent-build limit: wait and retry. */
const CODEBUILD_LIMIT_ERRORS = ["CodeBuild.AccountLimitExceededException"];

const ids = { "org.$": "$.org", "appId.$": "$.appId", "deploymentId.$": "$.deploymentId" };

export function deploymentStateMachine(options: WorkflowOptions, resources: TaskResources): StateMachineDefinition {
  const retry = (errors: string[]): Retrier[] => [{
    ErrorEquals: errors,
    IntervalSeconds: options.retry.intervalSeconds,
    MaxAttempts: options.retry.maxAttempts,
    BackoffRate: options.retry.backoffRate,
    MaxDelaySeconds: options.retry.maxDelaySeconds,
    JitterStrategy: "FULL",
  }];
  const failTo = (next: string, resultPath = "$.failure"): Catcher[] => [{ ErrorEquals: ["States.ALL"], Next: next, ResultPath: resultPath }];
  const lambdaTask = (state: string, fields: Omit<TaskState, "Type" | "Resource" | "Retry" | "Catch" | "TimeoutSeconds"> & Partial<TaskState>): TaskState => ({
    Type: "Task",
    Resource: resources[STATE_TASKS[state]!],
    TimeoutSeconds: options.timeouts.stepSeconds,
    Retry: retry([TASK_ERRORS.transient, ...LAMBDA_SERVICE_ERRORS]),
    Catch: failTo(STATES.recordFailure),
    ...fields,
  } as TaskState);

  return {
    Comment: "Bulkhead deployment: ephemeral per-app build, then deploy to the target with an assumed, session-scoped role",
    QueryLanguage: "JSONPath",
    StartAt: STATES.beginBuild,
    TimeoutSeconds: executionTimeoutSeconds(options),
    States: {
      [STATES.beginBuild]: lambdaTask(STATES.beginBuild, {
        Comment: "QUEUED to BUILDING; refused if the deployment was cancelled meanwhile",
        Parameters: ids,
        ResultPath: null,
        Next: STATES.prepareBuild,
      }),
      [STATES.prepareBuild]: lambdaTask(STATES.prepareBuild, {
        Comment: "Per-app build spec: artifact prefix, image repository, log group, build role",
        Parameters: { ...ids, timeoutMinutes: options.build.timeoutMinutes, queuedTimeoutMinutes: options.build.queuedTimeoutMinutes },
        ResultPath: "$.build",
        TimeoutSeconds: options.timeouts.prepareBuildSeconds,
        Next: STATES.newBuildRole,
      }),
      [STATES.newBuildRole]: {
        Type: "Choice",
        Choices: [{ Variable: "$.build.roleCreated", BooleanEquals: true, Next: STATES.waitForBuildRole }],
        Default: STATES.runBuild,
      },
      [STATES.waitForBuildRole]: {
        Type: "Wait",
        Comment: "A role created moments ago may not be assumable by CodeBuild yet",
        Seconds: options.build.rolePropagationSeconds,
        Next: STATES.runBuild,
      },
      [STATES.runBuild]: {
        Type: "Task",
        Comment: "The build runs in a fresh CodeBuild environment under the app's own role",
        Resource: codeBuildStartBuildSync(resources),
        Parameters: {
          "ProjectName.$": "$.build.projectName",
          "IdempotencyToken.$": "$.deploymentId",
          SourceTypeOverride: "S3",
          "SourceLocationOverride.$": "$.build.sourceLocation",
          "ServiceRoleOverride.$": "$.build.serviceRoleArn",
          "BuildspecOverride.$": "$.build.buildspec",
          "EnvironmentVariablesOverride.$": "$.build.environment",
          ArtifactsOverride: {
            Type: "S3",
            "Location.$": "$.build.artifactBucket",
            "Path.$": "$.build.artifactPath",
            "Name.$": "$.build.artifactName",
            NamespaceType: "NONE",
            Packaging: "ZIP",
          },
          LogsConfigOverride: {
            CloudWatchLogs: { Status: "ENABLED", "GroupName.$": "$.build.logGroup", "StreamName.$": "$.build.logStreamPrefix" },
            S3Logs: { Status: "DISABLED" },
          },
          "TimeoutInMinutesOverride.$": "$.build.timeoutMinutes",
          "QueuedTimeoutInMinutesOverride.$": "$.build.queuedTimeoutMinutes",
        },
        ResultSelector: {
          "buildId.$": "$.Build.Id",
          "artifactLocation.$": "$.Build.Artifacts.Location",
          "artifactSha256.$": "$.Build.Artifacts.Sha256sum",
        },
        ResultPath: "$.buildResult",
        TimeoutSeconds: runBuildTimeoutSeconds(options),
        Retry: retry([...CODEBUILD_LIMIT_ERRORS, TASK_ERRORS.transient]),
        Catch: failTo(STATES.destroyBuildEnvironment),
        Next: STATES.destroyBuildEnvironment,
      },
      [STATES.destroyBuildEnvironment]: lambdaTask(STATES.destroyBuildEnvironment, {
        Comment: "Always: after a build that succeeded, failed or timed out",
        Parameters: { ...ids, "projectName.$": "$.build.projectName" },
        ResultPath: null,
        Catch: failTo(STATES.recordFailure, "$.cleanupFailure"),
        Next: STATES.buildOutcome,
      }),
      [STATES.buildOutcome]: {
        Type: "Choice",
        Choices: [{ Variable: "$.failure", IsPresent: true, Next: STATES.recordFailure }],
        Default: STATES.recordArtifact,
      },
      [STATES.recordArtifact]: lambdaTask(STATES.recordArtifact, {
        Comment: "Artifact location and SHA-256, build log excerpt; BUILDING to DEPLOYING",
        Parameters: {
          ...ids,
          "artifactLocation.$": "$.buildResult.artifactLocation",
          "artifactSha256.$": "$.buildResult.artifactSha256",
          "logGroup.$": "$.build.logGroup",
          "logStreamPrefix.$": "$.build.logStreamPrefix",
        },
        ResultPath: null,
        Next: STATES.checkTarget,
      }),
      [STATES.checkTarget]: lambdaTask(STATES.checkTarget, {
        Comment: "The target exists and a grant covers deploying to it",
        Parameters: ids,
        ResultPath: "$.target",
        Next: STATES.applyRelease,
      }),
      [STATES.applyRelease]: lambdaTask(STATES.applyRelease, {
        Comment: "AssumeRole (ExternalId, session tags, phase policy) and apply, in one task: credentials never enter the state",
        Parameters: { ...ids, "artifactLocation.$": "$.buildResult.artifactLocation", "artifactSha256.$": "$.buildResult.artifactSha256" },
        ResultPath: "$.release",
        TimeoutSeconds: options.timeouts.applySeconds,
        Next: STATES.recordSuccess,
      }),
      [STATES.recordSuccess]: lambdaTask(STATES.recordSuccess, {
        Parameters: { ...ids, "releaseId.$": "$.release.releaseId", "appliedAt.$": "$.release.appliedAt" },
        ResultPath: null,
        Next: STATES.succeeded,
      }),
      [STATES.recordFailure]: lambdaTask(STATES.recordFailure, {
        Comment: "Reads the caught error(s) from the state; a terminal deployment is left as it is",
        ResultPath: null,
        Catch: failTo(STATES.failed, "$.recordFailure"),
        Next: STATES.failed,
      }),
      [STATES.succeeded]: { Type: "Succeed" },
      [STATES.failed]: {
        Type: "Fail",
        Error: "Bulkhead.DeploymentFailed",
        Cause: "The deployment failed; its record holds the reason.",
      },
    },
  };
}
