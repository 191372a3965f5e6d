import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { APP_LISTING_HEAD_TYPE, appListingPage, LIVE_APP } from "../apps/index.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import type { BuildSettings } from "../schemas.ts";
import { ACTIVE_DEPLOYMENTS, APP_LISTINGS, keys } from "../data/keys.ts";
import { TABLE_SCHEMA } from "../data/table-schema.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import { transact, type TransactionItem } from "../data/transaction.ts";
import { appNotFound, conflict } from "../errors.ts";
import { runningDeploymentSlot } from "../limits/usage.ts";
import { limitsOf } from "../orgs/index.ts";
import { deploymentNotFound, deploymentsAtLimit, idempotencyKeyReused, TransitionRefused } from "./errors.ts";
import { newDeploymentId } from "./ids.ts";
import { isTerminal, TRANSITIONS, type DeploymentStatus, type TransitionName } from "./status.ts";

const ACTIVE_INDEX = TABLE_SCHEMA.indexes.activeDeployments;

export type TargetRef = { id: string; kind: "hosted" | "byoi" };
export type Artifact = { location: string; sha256: string };
export type BuildLog = { excerpt: string; truncated: boolean };
export type Release = { id: string; appliedAt: string };

/** What the API shows of a deployment. */
export type Deployment = {
  id: string;
  appId: string;
  status: DeploymentStatus;
  source: { ref: string };
  target: TargetRef;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  timestamps: { queuedAt: string; buildStartedAt?: string; buildFinishedAt?: string; deployStartedAt?: string; finishedAt?: string };
  failureReason?: string;
  artifact?: Artifact;
  buildLog?: BuildLog;
  release?: Release;
};

/** The stored record: the view plus what only the workflow needs. */
export type DeploymentRecord = Deployment & {
  /** The app's build settings when the deployment was requested; a later PATCH does not change a running build. */
  build?: BuildSettings;
  executionArn?: string;
};

/** Idempotency entries live a day, like the keys of most payment APIs. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const RECORD_FIELDS = [
  "id", "appId", "status", "source", "target", "createdBy", "createdAt", "updatedAt", "timestamps",
  "failureReason", "artifact", "buildLog", "release", "build", "executionArn",
] as const;

function toRecord(item: Record<string, any>): DeploymentRecord {
  const record: Record<string, unknown> = {};
  for (const field of RECORD_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as DeploymentRecord;
}

export function toDeployment(record: DeploymentRecord): Deployment {
  const { build: _build, executionArn: _arn, ...view } = record;
  return view;
}

export type NewDeployment = {
  appId: string;
  source: { ref: string };
  target: TargetRef;
  build?: BuildSettings;
  createdBy: string;
  /** SHA-256 of the caller's Idempotency-Key and of the request it came with. */
  idempotency?: { keyHash: string; requestHash: string };
};

/**
 * Writes a QUEUED deployment. With an idempotency key, the deployment and the key's entry are
 * written in one transaction, so two requests with one key cannot both create a deployment:
 * the second gets the first's deployment back (`replayed`).
 */
export async function createDeployment(
  table: TenantTable,
  input: NewDeployment,
  audit: PendingAudit,
  now = new Date(),
): Promise<{ deployment: DeploymentRecord; replayed: boolean }> {
  const at = now.toISOString();
  const { concurrentDeployments } = await limitsOf(table.org);
  const record: DeploymentRecord = {
    id: newDeploymentId(now.getTime()),
    appId: input.appId,
    status: "QUEUED",
    source: input.source,
    target: input.target,
    build: input.build,
    createdBy: input.createdBy,
    createdAt: at,
    updatedAt: at,
    timestamps: { queuedAt: at },
  };
  // The app must be live, and its deployments head takes the id in the same transaction: an app
  // delete (which marks that head, conditioned on no active deployment) and this write serialize
  // on that one item, so either the delete sees the deployment and refuses, or this write fails.
  // The org's running slot is taken in the same transaction: a deployment that has not ended holds exactly one.
  const items: TransactionItem[] = [
    { name: "app", ConditionCheck: { TableName: table.name, Key: keys.app(table.org, input.appId), ConditionExpression: LIVE_APP } },
    runningDeploymentSlot(table, input.appId, record.id, "ADD", concurrentDeployments),
    activeDeploymentsChange(table, input.appId, record.id, "ADD"),
    {
      name: "deployment",
      Put: {
        TableName: table.name,
        Item: { ...keys.deployment(table.org, input.appId, record.id), type: "deployment", ...record, ...keys.activeDeploymentIndex(at) },
        ConditionExpression: "attribute_not_exists(PK)",
      },
    },
  ];
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (input.idempotency) {
    items.push({
      name: "idempotency",
      Put: {
        TableName: table.name,
        Item: {
          ...keys.deploymentIdempotency(table.org, input.appId, input.idempotency.keyHash),
          type: "idempotency",
          deploymentId: record.id,
          requestHash: input.idempotency.requestHash,
          expiresAt: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
        },
        // TTL deletes lazily: an expired entry is treated as absent.
        ConditionExpression: "attribute_not_exists(PK) OR expiresAt < :now",
        ExpressionAttributeValues: { ":now": nowSeconds },
      },
    });
  }
  try {
    // Deployments of one app meet on its head: a transaction that lost only to another in flight is retried.
    await commitAudited(table, audit, record, items);
    return { deployment: record, replayed: false };
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (error.failed("app") || error.failed("head")) throw appNotFound();
    // A replay of a deployment that exists takes no new slot: the idempotency entry decides first.
    if (input.idempotency && error.failed("idempotency")) return replayOf(table, input.appId, input.idempotency);
    if (error.failed("slot")) throw deploymentsAtLimit(concurrentDeployments);
    throw error;
  }
}

async function replayOf(table: TenantTable, appId: string, idempotency: NonNullable<NewDeployment["idempotency"]>) {
  const { keyHash, requestHash } = idempotency;
  const { Item: entry } = await table.client.send(new GetCommand({
    TableName: table.name,
    Key: keys.deploymentIdempotency(table.org, appId, keyHash),
    ConsistentRead: true,
  }));
  if (!entry) throw conflict("A request with this Idempotency-Key is in flight; retry it.");
  if (entry.requestHash !== requestHash) throw idempotencyKeyReused();
  return { deployment: await getDeploymentRecord(table, appId, entry.deploymentId), replayed: true };
}

export async function getDeploymentRecord(table: TenantTable, appId: string, deploymentId: string): Promise<DeploymentRecord> {
  const record = await findDeploymentRecord(table, appId, deploymentId);
  if (!record) throw deploymentNotFound();
  return record;
}

/** Newest first; 404 for an app that does not exist or is being deleted. One Query for a first page. */
export async function listDeployments(table: TenantTable, cursorKey: string, appId: string, page: { limit: number; cursor?: string }) {
  const { items, cursor } = await appListingPage(table, cursorKey, appId, APP_LISTINGS.deployments, page);
  return { items: items.map((item) => toDeployment(toRecord(item))), cursor };
}

export type RecordedFields = Partial<Pick<DeploymentRecord, "failureReason" | "artifact" | "buildLog" | "release">>;

/**
 * Adds the deployment to, or removes it from, the app's active set on its deployments listing head
 * (a string set, so repeating either is harmless; DynamoDB drops the attribute once it is empty).
 * The head is written as deleteApp writes it, should an app predate heads.
 */
function activeDeploymentsChange(table: TenantTable, appId: string, deploymentId: string, action: "ADD" | "DELETE"): TransactionItem {
  return {
    name: "head",
    Update: {
      TableName: table.name,
      Key: keys.appListingHead(table.org, appId, APP_LISTINGS.deployments),
      UpdateExpression: `SET #type = :type, appId = :app ${action} ${ACTIVE_DEPLOYMENTS} :ids`,
      // A head marked deleting takes no new deployment.
      ...(action === "ADD" && { ConditionExpression: "attribute_not_exists(deletingSince)" }),
      ExpressionAttributeNames: { "#type": "type" },
      ExpressionAttributeValues: { ":type": APP_LISTING_HEAD_TYPE, ":app": appId, ":ids": new Set([deploymentId]) },
    },
  };
}

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

async function findDeploymentRecord(table: TenantTable, appId: string, deploymentId: string): Promise<DeploymentRecord | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.deployment(table.org, appId, deploymentId), ConsistentRead: true }));
  return Item && toRecord(Item);
}

/** Notes the execution once it is started; a concurrent replay may have noted it first. */
export async function noteExecution(table: TenantTable, appId: string, deploymentId: string, executionArn: string): Promise<void> {
  try {
    await table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: keys.deployment(table.org, appId, deploymentId),
      UpdateExpression: "SET executionArn = :arn",
      ConditionExpression: "attribute_exists(SK) AND attribute_not_exists(executionArn)",
      ExpressionAttributeValues: { ":arn": executionArn },
    }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
