import { pendingAudit } from "../audit/chain.ts";
import { parseDeploymentKey } from "../data/keys.ts";
import { platformIndexKeys } from "../data/platform-index.ts";
import { TABLE_SCHEMA } from "../data/table-schema.ts";
import { activeDeploymentsIndexTable, tenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import type { StateMachineDefinition } from "../workflows/asl.ts";
import { stateMachines } from "../workflows/machines.ts";
import { PRODUCTION_WORKFLOW_OPTIONS } from "../workflows/options.ts";
import { placeholderTaskResources } from "../workflows/tasks.ts";
import { failDeployment } from "./transitions.ts";

/**
 * The stuck-deployment sweep: a deployment that has not ended although its workflow's whole time
 * limit has passed (an execution whose close event never arrived, a runtime that stopped with it)
 * is failed with a reason, as the platform's own action in the org's audit chain. It reads the
 * active-deployments index (never a Scan) and ends each one through failDeployment, the workflow's
 * own fail path, so it releases whatever that path releases.
 */

/** The platform's sweep, as it appears in an org's audit chain. */
export const SWEEP_ACTOR = { kind: "system", sub: "bulkhead:deployment-sweep" } as const;
export const SWEEP_ACTION = "deployments.sweep-fail";

/**
 * How long after its workflow's limit a deployment counts as stuck: the close event of an
 * execution that timed out (EventBridge, then the execution-closed task) gets this long to arrive.
 */
export const SWEEP_GRACE_SECONDS = 300;

/** The limit of the deployment workflow as deployed: the TimeoutSeconds of the one definition (machines.ts) with production options. */
export const deployedWorkflowTimeoutSeconds = (): number =>
  stateMachines.Deployment(PRODUCTION_WORKFLOW_OPTIONS, placeholderTaskResources()).TimeoutSeconds;

export const stuckReason = (timeoutSeconds: number): string =>
  `the deployment did not end within its workflow's time limit (${timeoutSeconds} s) and was failed by the stuck-deployment sweep`;

export type SweepSummary = { stuck: number; failed: number; alreadyEnded: number; errors: number };

/** Active deployments queued at or before `cutoff`, oldest first, from the active-deployments index (never a Scan). */
async function activeSince(cutoff: string): Promise<{ org: string; appId: string; deploymentId: string }[]> {
  const found: { org: string; appId: string; deploymentId: string }[] = [];
  for (const item of await platformIndexKeys(activeDeploymentsIndexTable(), TABLE_SCHEMA.indexes.activeDeployments, cutoff)) {
    const key = parseDeploymentKey(item);
    if (key) found.push(key);
    else logger.warn("active-deployments index holds a non-deployment item", { sk: String(item.SK).slice(0, 40) });
  }
  return found;
}

/**
 * Fails every deployment queued more than `definition.TimeoutSeconds` (plus the grace) before
 * `now` that has not ended. One deployment's error is logged and counted; the rest go on.
 */
export async function sweepStuckDeployments(options: { definition?: Pick<StateMachineDefinition, "TimeoutSeconds">; now?: Date } = {}): Promise<SweepSummary> {
  const timeoutSeconds = options.definition?.TimeoutSeconds ?? deployedWorkflowTimeoutSeconds();
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - (timeoutSeconds + SWEEP_GRACE_SECONDS) * 1000).toISOString();
  const stuck = await activeSince(cutoff);
  const summary: SweepSummary = { stuck: stuck.length, failed: 0, alreadyEnded: 0, errors: 0 };
  for (const ids of stuck) {
    try {
      const audit = pendingAudit({ actor: SWEEP_ACTOR, action: SWEEP_ACTION, requestId: ids.deploymentId });
      const change = { appId: ids.appId, deploymentId: ids.deploymentId };
      const { recorded } = await failDeployment(tenantTable(ids.org), ids, { failureReason: stuckReason(timeoutSeconds) }, { pending: audit, change }, now);
      if (recorded) summary.failed++;
      else summary.alreadyEnded++;
    } catch (error) {
      summary.errors++;
      logger.error("stuck deployment could not be failed", { org: ids.org, app: ids.appId, deployment: ids.deploymentId, error: error as Error });
    }
  }
  if (stuck.length > 0) logger.info("stuck-deployment sweep", { ...summary, timeoutSeconds });
  return summary;
}
