import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { TransactionRefused } from "../data/errors.ts";
import { keys } from "../data/keys.ts";
import { TABLE_SCHEMA } from "../data/table-schema.ts";
import type { TenantTable } from "../data/tables.ts";
import { transact, type TransactionItem } from "../data/transaction.ts";
import { runningDeploymentSlot } from "../limits/usage.ts";
import { TransitionRefused } from "./errors.ts";
import { activeDeploymentsChange, findDeploymentRecord, getDeploymentRecord, toRecord, type DeploymentRecord } from "./records.ts";
import { isTerminal, TRANSITIONS, type DeploymentStatus, type TransitionName } from "./status.ts";

const ACTIVE_INDEX = TABLE_SCHEMA.indexes.activeDeployments;

export type RecordedFields = Partial<Pick<DeploymentRecord, "failureReason" | "artifact" | "buildLog" | "release">>;

/** What a transition commits with, when the caller audits it: the record lands in the same transaction. */
export type TransitionAudit = { pending: PendingAudit; change: object };

/**
 * Applies one transition of TRANSITIONS as a single conditional write: the new status, its step
 * timestamps and any recorded fields land together, or nothing does (TransitionRefused). A
 * transition to a terminal status also takes the deployment off the app's active set and out of
 * the active-deployments index, in the same transaction.
 */
export async function transition(
  table: TenantTable,
  appId: string,
  deploymentId: string,
  name: TransitionName,
  fields: RecordedFields = {},
  now = new Date(),
  audit?: TransitionAudit,
): Promise<DeploymentRecord> {
  const rule = TRANSITIONS[name];
  const at = now.toISOString();
  const names: Record<string, string> = { "#status": "status", "#ts": "timestamps" };
  const values: Record<string, unknown> = { ":to": rule.to, ":at": at };
  const sets = ["#status = :to", "updatedAt = :at"];
  rule.stamps.forEach((stamp, i) => {
    names[`#stamp${i}`] = stamp;
    sets.push(`#ts.#stamp${i} = :at`);
  });
  Object.entries(fields).forEach(([field, value], i) => {
    if (value === undefined) return;
    names[`#field${i}`] = field;
    values[`:field${i}`] = value;
    sets.push(`#field${i} = :field${i}`);
  });
  rule.from.forEach((status, i) => (values[`:from${i}`] = status));
  const ends = isTerminal(rule.to);
  const update = {
    TableName: table.name,
    Key: keys.deployment(table.org, appId, deploymentId),
    // An index entry needs both of its key attributes: without the sort key the item leaves the
    // sparse index (the key-scope guard lets no update touch an index's partition attribute).
    UpdateExpression: `SET ${sets.join(", ")}${ends ? ` REMOVE ${ACTIVE_INDEX.sortKey}` : ""}`,
    ConditionExpression: `attribute_exists(SK) AND #status IN (${rule.from.map((_, i) => `:from${i}`).join(", ")})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
  if (!ends && !audit) {
    try {
      const { Attributes } = await table.client.send(new UpdateCommand({ ...update, ReturnValues: "ALL_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" }));
      return toRecord(Attributes!);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = (error.Item as Record<string, { S?: string }> | undefined)?.status?.S as DeploymentStatus | undefined;
      throw new TransitionRefused(name, current);
    }
  }
  const items: TransactionItem[] = [
    { name: "deployment", Update: update },
    ...(ends ? [activeDeploymentsChange(table, appId, deploymentId, "DELETE"), runningDeploymentSlot(table, appId, deploymentId, "DELETE")] : []),
  ];
  try {
    if (audit) await commitAudited(table, audit.pending, audit.change, items);
    else await transact(table, items);
  } catch (error) {
    if (!(error instanceof TransactionRefused && error.failed("deployment"))) throw error;
    throw new TransitionRefused(name, (await findDeploymentRecord(table, appId, deploymentId))?.status);
  }
  // A transaction returns no attributes: the record as committed is read back.
  return getDeploymentRecord(table, appId, deploymentId);
}

/**
 * The one way a deployment is failed: the workflow's RecordFailure, an execution that closed
 * without reaching it, a workflow that never started, and the stuck-deployment sweep all end a
 * deployment here, so whatever ending a deployment releases (its place in the app's active set,
 * in the active-deployments index and in the org's running slots) is released on every path.
 * `recorded` is false when the deployment had already ended (or is gone): it is then left as it is.
 */
export async function failDeployment(
  table: TenantTable,
  ids: { appId: string; deploymentId: string },
  fields: Pick<RecordedFields, "failureReason" | "buildLog">,
  audit?: TransitionAudit,
  now = new Date(),
): Promise<{ recorded: boolean }> {
  try {
    await transition(table, ids.appId, ids.deploymentId, "fail", fields, now, audit);
    return { recorded: true };
  } catch (error) {
    if (error instanceof TransitionRefused) return { recorded: false };
    throw error;
  }
}
