import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { appListingPage } from "../app-listing.ts";
import type { BuildSettings } from "./build-spec.ts";
import { APP_LISTINGS, keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { newDeploymentId } from "./ids.ts";
import { problems } from "../problem.ts";
import { TRANSITIONS, type DeploymentStatus, type TransitionName } from "./status.ts";

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

export class TransitionRefused extends Error {
  override readonly name = "TransitionRefused";
  constructor(readonly transition: TransitionName, readonly current: DeploymentStatus | undefined) {
    super(current ? `deployment is ${current}; ${transition} needs ${TRANSITIONS[transition].from.join(" or ")}` : "no such deployment");
  }
}

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
  now = new Date(),
): Promise<{ deployment: DeploymentRecord; replayed: boolean }> {
  const at = now.toISOString();
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
  const put = {
    Put: {
      TableName: table.name,
      Item: { ...keys.deployment(table.org, input.appId, record.id), type: "deployment", ...record },
      ConditionExpression: "attribute_not_exists(PK)",
    },
  };
  if (!input.idempotency) {
    await table.client.send(new PutCommand(put.Put));
    return { deployment: record, replayed: false };
  }
  const { keyHash, requestHash } = input.idempotency;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  try {
    await table.client.send(new TransactWriteCommand({
      TransactItems: [put, {
        Put: {
          TableName: table.name,
          Item: {
            ...keys.deploymentIdempotency(table.org, input.appId, keyHash),
            type: "idempotency",
            deploymentId: record.id,
            requestHash,
            expiresAt: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
          },
          // TTL deletes lazily: an expired entry is treated as absent.
          ConditionExpression: "attribute_not_exists(PK) OR expiresAt < :now",
          ExpressionAttributeValues: { ":now": nowSeconds },
        },
      }],
    }));
    return { deployment: record, replayed: false };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    if (error.CancellationReasons?.[1]?.Code !== "ConditionalCheckFailed") throw error;
  }
  const { Item: entry } = await table.client.send(new GetCommand({
    TableName: table.name,
    Key: keys.deploymentIdempotency(table.org, input.appId, keyHash),
    ConsistentRead: true,
  }));
  if (!entry) throw problems.conflict("A request with this Idempotency-Key is in flight; retry it.");
  if (entry.requestHash !== requestHash) throw problems.idempotencyKeyReused();
  return { deployment: await getDeploymentRecord(table, input.appId, entry.deploymentId), replayed: true };
}

export async function getDeploymentRecord(table: TenantTable, appId: string, deploymentId: string): Promise<DeploymentRecord> {
  const { Item } = await table.client.send(new GetCommand({
    TableName: table.name,
    Key: keys.deployment(table.org, appId, deploymentId),
    ConsistentRead: true,
  }));
  if (!Item) throw problems.notFound("No such deployment.");
  return toRecord(Item);
}

/** Newest first; 404 for an app that does not exist or is being deleted. One Query for a first page. */
export async function listDeployments(table: TenantTable, cursorKey: string, appId: string, page: { limit: number; cursor?: string }) {
  const { items, cursor } = await appListingPage(table, cursorKey, appId, APP_LISTINGS.deployments, page);
  return { items: items.map((item) => toDeployment(toRecord(item))), cursor };
}

export type RecordedFields = Partial<Pick<DeploymentRecord, "failureReason" | "artifact" | "buildLog" | "release">>;

/**
 * Applies one transition of TRANSITIONS as a single conditional write: the new status, its step
 * timestamps and any recorded fields land together, or nothing does (TransitionRefused).
 */
export async function transition(
  table: TenantTable,
  appId: string,
  deploymentId: string,
  name: TransitionName,
  fields: RecordedFields = {},
  now = new Date(),
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
  try {
    const { Attributes } = await table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: keys.deployment(table.org, appId, deploymentId),
      UpdateExpression: `SET ${sets.join(", ")}`,
      ConditionExpression: `attribute_exists(SK) AND #status IN (${rule.from.map((_, i) => `:from${i}`).join(", ")})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    }));
    return toRecord(Attributes!);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = (error.Item as Record<string, { S?: string }> | undefined)?.status?.S as DeploymentStatus | undefined;
    throw new TransitionRefused(name, current);
  }
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
