import { tenantTable } from "../../data/tables.ts";
import { buildLogExcerpt } from "../build-log.ts";
import { deploymentsConfig } from "../config.ts";
import { failureReason, type CaughtError } from "../failure.ts";
import type { ExecutionInput } from "../ports.ts";
import { failDeployment } from "../transitions.ts";
import { destroyBuildEnvironment } from "./build.ts";
import { move } from "./guard.ts";

/** How a deployment ends: SUCCEEDED, FAILED with its reason, or failed because its execution closed without reaching an end. */

export async function recordSuccess(ids: ExecutionInput, release: { releaseId: string; appliedAt: string }): Promise<object> {
  await move(ids, "succeed", { release: { id: release.releaseId, appliedAt: release.appliedAt } });
  return {};
}

export type FailureState = ExecutionInput & {
  failure?: CaughtError;
  cleanupFailure?: CaughtError;
  build?: { logGroup?: string; logStreamPrefix?: string };
};

export function reasonFor(state: Pick<FailureState, "failure" | "cleanupFailure">): string {
  if (state.failure && state.cleanupFailure) return `${failureReason(state.failure)}; the build environment could not be destroyed either`;
  if (state.cleanupFailure) return `the build environment could not be destroyed: ${failureReason(state.cleanupFailure)}`;
  return failureReason(state.failure);
}

/** Records FAILED with its reason. A deployment already terminal (cancelled, say) is left as it is. */
export async function recordFailure(state: FailureState): Promise<{ recorded: boolean }> {
  const { logGroup, logStreamPrefix } = state.build ?? {};
  const buildLog = logGroup && logStreamPrefix ? await buildLogExcerpt(logGroup, logStreamPrefix) : undefined;
  return failDeployment(tenantTable(state.org), state, { failureReason: reasonFor(state), buildLog });
}

export const CLOSED_EXECUTION_REASONS = {
  ABORTED: "the deployment's workflow was stopped",
  TIMED_OUT: "the deployment exceeded its overall time limit",
  FAILED: "the deployment's workflow failed",
} as const;

/**
 * For executions that end without reaching RecordFailure (stopped, timed out, or failed on an
 * error no Catch sees): destroy what may remain of the build, then fail the deployment if it is
 * still active. Runs from EventBridge in the cloud, and from the offline executor.
 */
export async function executionClosed(ids: ExecutionInput, status: keyof typeof CLOSED_EXECUTION_REASONS): Promise<{ recorded: boolean }> {
  await destroyBuildEnvironment(ids, deploymentsConfig().buildProject);
  return failDeployment(tenantTable(ids.org), ids, { failureReason: CLOSED_EXECUTION_REASONS[status] });
}
