import { redactSecrets } from "../redact.ts";

/** What a Catch puts at its ResultPath. */
export type CaughtError = { Error: string; Cause?: unknown };

const MAX_REASON = 1000;

function parseJson(text: unknown): any {
  if (typeof text !== "string") return typeof text === "object" ? text : undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A CodeBuild build as startBuild.sync reports it in a failure's Cause (Step Functions spells the
 * fields in PascalCase; the CodeBuild API in camelCase; accept both).
 */
function buildFailure(build: Record<string, any>): string {
  const status = build.BuildStatus ?? build.buildStatus ?? "FAILED";
  const phases: Record<string, any>[] = build.Phases ?? build.phases ?? [];
  const failed = phases.find((p) => {
    const phaseStatus = p.PhaseStatus ?? p.phaseStatus;
    return phaseStatus && phaseStatus !== "SUCCEEDED";
  });
  const phase = failed?.PhaseType ?? failed?.phaseType;
  const context = (failed?.Contexts ?? failed?.contexts ?? [])
    .map((c: Record<string, string>) => [c.StatusCode ?? c.statusCode, c.Message ?? c.message].filter(Boolean).join(": "))
    .filter(Boolean)
    .join("; ");
  if (status === "TIMED_OUT") return `the build exceeded its time limit and was stopped${phase ? ` (in phase ${phase})` : ""}`;
  if (status === "STOPPED") return "the build was stopped";
  return `the build ${String(status).toLowerCase()}${phase ? ` in phase ${phase}` : ""}${context ? `: ${context}` : ""}`;
}

/**
 * Turns a caught workflow error into the reason a user reads. Our own task errors carry a message
 * written for users; a failed build carries CodeBuild's build record; anything else is named by
 * its error only, so internal detail never reaches the record.
 */
export function failureReason(caught: CaughtError | undefined): string {
  if (!caught) return "the deployment failed";
  const cause = parseJson(caught.Cause);
  let reason: string;
  if (caught.Error.startsWith("Bulkhead.")) {
    // A Lambda's Cause is {"errorType","errorMessage",…}; the local interpreter passes the message itself.
    const message = typeof cause === "object" && cause && "errorMessage" in cause ? cause.errorMessage : caught.Cause;
    reason = typeof message === "string" && message ? message : caught.Error;
  } else if (caught.Error === "States.TaskFailed" && cause && typeof cause === "object" && (cause.Build || cause.BuildStatus || cause.buildStatus)) {
    reason = buildFailure(cause.Build ?? cause);
  } else if (caught.Error === "States.Timeout") {
    reason = "a workflow step exceeded its time limit";
  } else if (caught.Error.startsWith("CodeBuild.")) {
    reason = `the build could not start (${caught.Error})`;
  } else {
    reason = `a workflow step failed (${caught.Error})`;
  }
  const clean = redactSecrets(reason);
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean;
}
