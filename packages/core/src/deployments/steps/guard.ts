import { tenantTable } from "../../data/tables.ts";
import { BulkheadError } from "../../errors.ts";
import { taskError } from "../../workflows/errors.ts";
import { TransitionRefused } from "../errors.ts";
import type { ExecutionInput } from "../ports.ts";
import { getDeploymentRecord, type DeploymentRecord } from "../records.ts";
import { transition, type RecordedFields } from "../transitions.ts";
import type { DeploymentStatus, TransitionName } from "../status.ts";

export async function move(ids: ExecutionInput, name: TransitionName, fields?: RecordedFields): Promise<DeploymentRecord> {
  try {
    return await transition(tenantTable(ids.org), ids.appId, ids.deploymentId, name, fields);
  } catch (error) {
    if (error instanceof TransitionRefused) {
      throw taskError("deploymentClosed", error.current ? `the deployment is ${error.current}; this step did not run` : "the deployment no longer exists");
    }
    throw error;
  }
}

export async function requireStatus(ids: ExecutionInput, status: DeploymentStatus): Promise<DeploymentRecord> {
  const record = await getDeploymentRecord(tenantTable(ids.org), ids.appId, ids.deploymentId).catch((error: unknown) => {
    if (error instanceof BulkheadError && error.code === "not-found") return undefined;
    throw error; // throttling and the like: the state machine retries
  });
  if (!record) throw taskError("deploymentClosed", "the deployment no longer exists");
  if (record.status !== status) throw taskError("deploymentClosed", `the deployment is ${record.status}; this step did not run`);
  return record;
}
