import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { InternalError } from "../errors.ts";

/**
 * Errors a workflow task ends with. Step Functions matches Retry and Catch on the error's name
 * (a Lambda's `errorType`; aws-local-stepfunctions uses `error.name` the same way), so the name is
 * the contract with the state machine; the message becomes the deployment's failure reason and
 * is therefore always written for the user and never carries a secret.
 */
export const TASK_ERRORS = {
  /** Throttling or a passing fault: the state machine retries with backoff. */
  transient: "Bulkhead.Transient",
  /** The deployment left the status this step needs (cancelled, failed): stop, change nothing. */
  deploymentClosed: "Bulkhead.DeploymentClosed",
  accessDenied: "Bulkhead.AccessDenied",
  grantDenied: "Bulkhead.GrantDenied",
  targetUnavailable: "Bulkhead.TargetUnavailable",
  invalidInput: "Bulkhead.InvalidInput",
  buildEnvironment: "Bulkhead.BuildEnvironment",
  releaseMismatch: "Bulkhead.ReleaseMismatch",
  /** The artifact exceeds what the target accepts in one upload. */
  artifactTooLarge: "Bulkhead.ArtifactTooLarge",
  internal: "Bulkhead.Internal",
} as const;

export type TaskErrorName = (typeof TASK_ERRORS)[keyof typeof TASK_ERRORS];

export class TaskError extends InternalError {
  constructor(name: TaskErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

export const taskError = (name: keyof typeof TASK_ERRORS, message: string, cause?: unknown): TaskError =>
  new TaskError(TASK_ERRORS[name], message, { cause });

const ACCESS_DENIED = new Set([
  "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
  "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
]);

function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return ACCESS_DENIED.has(String(e?.name)) || e?.$metadata?.httpStatusCode === 403;
}

/**
 * Maps an error raised inside a task (often an AWS SDK error) to the error the workflow sees.
 * `what` names the call, for the user: "the target's deploy role refused AssumeRole".
 */
export function asTaskError(error: unknown, what: string): TaskError {
  if (error instanceof TaskError) return error;
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  if (typeof error === "object" && error !== null) {
    if (isThrottlingError(sdkError)) return taskError("transient", `${what}: throttled`, error);
    if (isTransientError(sdkError) || isServerError(sdkError)) return taskError("transient", `${what}: temporarily unavailable`, error);
    if (isAccessDenied(error)) return taskError("accessDenied", `${what}: access denied`, error);
  }
  return taskError("internal", `${what}: failed`, error);
}
