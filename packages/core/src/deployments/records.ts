import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { APP_LISTING_HEAD_TYPE, appListingPage, LIVE_APP } from "../apps/index.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import type { BuildSettings } from "../schemas.ts";
import { ACTIVE_DEPLOYMENTS, APP_LISTINGS, keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { appNotFound } from "../errors.ts";
import { runningDeploymentSlot } from "../limits/usage.ts";
import { limitsOf } from "../orgs/index.ts";
import { deploymentNotFound, deploymentsAtLimit } from "./errors.ts";
import { idempotencyEntry, replayedDeploymentId, type Idempotency } from "./idempotency.ts";
import { newDeploymentId } from "./ids.ts";
import type { DeploymentStatus } from "./status.ts";

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

const RECORD_FIELDS = [
  "id", "appId", "status", "source", "target", "createdBy", "createdAt", "updatedAt", "timestamps",
  "failureReason", "artifact", "buildLog", "release", "build", "executionArn",
] as const;

export function toRecord(item: Record<string, any>): DeploymentRecord {
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
  idempotency?: Idempotency;
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
  if (input.idempotency) items.push(idempotencyEntry(table, input.appId, record.id, input.idempotency, now));
  try {
    // Deployments of one app meet on its head: a transaction that lost only to another in flight is retried.
    await commitAudited(table, audit, record, items);
    return { deployment: record, replayed: false };
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (error.failed("app") || error.failed("head")) throw appNotFound();
    // A replay of a deployment that exists takes no new slot: the idempotency entry decides first.
    if (input.idempotency && error.failed("idempotency")) {
      return { deployment: await getDeploymentRecord(table, input.appId, await replayedDeploymentId(table, input.appId, input.idempotency)), replayed: true };
    }
    if (error.failed("slot")) throw deploymentsAtLimit(concurrentDeployments);
    throw error;
  }
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

/**
 * Adds the deployment to, or removes it from, the app's active set on its deployments listing head
 * (a string set, so repeating either is harmless; DynamoDB drops the attribute once it is empty).
 * The head is written as deleteApp writes it, should an app predate heads.
 */
export function activeDeploymentsChange(table: TenantTable, appId: string, deploymentId: string, action: "ADD" | "DELETE"): TransactionItem {
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

export async function findDeploymentRecord(table: TenantTable, appId: string, deploymentId: string): Promise<DeploymentRecord | undefined> {
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
