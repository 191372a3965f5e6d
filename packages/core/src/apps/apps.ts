import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import type { KeyStore } from "../key-stores/key-store.ts";
import { discardCredentialStore, provisionCredentialStore, shredCredentialStore } from "../key-stores/lifecycle.ts";
import { purgePartition } from "../data/purge.ts";
import { decodeCursor, encodeCursor } from "../data/cursor.ts";
import { ACTIVE_DEPLOYMENTS, APP_LISTINGS, appPartition, keys, orgPartition } from "../data/keys.ts";
import { TABLE_SCHEMA } from "../data/table-schema.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import { transact, type TransactionItem } from "../data/transaction.ts";
import type { BuildSettings } from "../schemas.ts";
import { newId } from "../ids.ts";
import { QUOTA_SHARD_ATTRIBUTE, uncountOne, withinQuota } from "../limits/quota.ts";
import { appsQuota } from "../limits/usage.ts";
import { logger } from "../log.ts";
import { limitsOf } from "../orgs/index.ts";
import { appNotFound, conflict, InternalError } from "../errors.ts";

/**
 * `build` absent: the default build, which packages the source as it is. `kek`: the version of the
 * app's key-encryption key that is current and when it became so (creation, or the last rotation);
 * an app made before versions were recorded shows only the time.
 */
export type App = {
  id: string; name: string; description?: string; build?: BuildSettings; createdAt: string; updatedAt: string;
  kek: { version?: string; rotatedAt: string };
};

const toApp = (item: Record<string, any>): App => ({
  id: item.id, name: item.name, description: item.description, build: item.build, createdAt: item.createdAt, updatedAt: item.updatedAt,
  kek: { version: item.kekVersion, rotatedAt: item[TABLE_SCHEMA.indexes.kekRotation.sortKey] ?? item.createdAt },
});

/**
 * An app being deleted carries `deletingSince`: it is gone for every reader, and no credential
 * write can commit against it (they are conditioned on LIVE_APP).
 */
export const LIVE_APP = "attribute_exists(PK) AND attribute_not_exists(deletingSince)";

/** True for an app item, or one of its listing heads, that says the app exists and is not being deleted. */
export const isLiveApp = (item: Record<string, any> | undefined): item is Record<string, any> =>
  item !== undefined && item.deletingSince === undefined;

/**
 * The app's listing heads (data/keys.ts) mirror its state: written, marked deleting and removed in
 * the same transactions as the app item, so a head that exists is never wrong.
 */
export const APP_LISTING_HEAD_TYPE = "app-listing-head";
const headItems = (org: string, appId: string) => keys.appListingHeads(org, appId).map((key) => ({ ...key, type: APP_LISTING_HEAD_TYPE, appId }));
/** A listing head's name in a transaction: "head:CRED", "head:DEPLOY"… */
const headName = (key: { SK: string }) => `head:${key.SK}`;

/** What the audit record of an app's change is drawn from (the route's `records` picks its fields). */
export type AppChange = { appId: string; changed?: string[] };

/** Provisions the app's credential store first, so a failure never leaves an app without one. */
export async function createApp(
  table: TenantTable,
  keyStore: KeyStore,
  input: { name: string; description?: string; build?: BuildSettings },
  audit: PendingAudit,
  now = new Date(),
): Promise<App> {
  const at = now.toISOString();
  const id = newId();
  const ref = { org: table.org, app: id };
  const { kekVersion } = await provisionCredentialStore(keyStore, ref);
  const app: App = { id, name: input.name, description: input.description, build: input.build, createdAt: at, updatedAt: at, kek: { version: kekVersion, rotatedAt: at } };
  const { kek: _, ...stored } = app;
  const heads = headItems(table.org, app.id);
  const { apps: maxApps } = await limitsOf(table.org);
  try {
    // The app counts against the org's quota in the same transaction (its last item) that creates it.
    return await withinQuota(table, appsQuota(table.org), maxApps, async (countItem, shard) => {
      try {
        await commitAudited(table, audit, { appId: app.id } satisfies AppChange, [
          {
            name: "app",
            Put: {
              TableName: table.name,
              Item: { ...keys.app(table.org, app.id), type: "app", ...stored, kekVersion, [QUOTA_SHARD_ATTRIBUTE]: shard, ...keys.kekRotationIndex(at) },
              ConditionExpression: "attribute_not_exists(PK)",
            },
          },
          ...heads.map((Item) => ({ name: headName(Item), Put: { TableName: table.name, Item, ConditionExpression: "attribute_not_exists(PK)" } })),
          countItem,
        ]);
        return app;
      } catch (error) {
        if (error instanceof TransactionRefused && error.item === countItem.name) return undefined;
        throw error;
      }
    });
  } catch (error) {
    await discardCredentialStore(keyStore, ref);
    throw error;
  }
}

export async function getApp(table: TenantTable, appId: string, options: { consistent?: boolean } = {}): Promise<App> {
  const { Item } = await table.client.send(new GetCommand({
    TableName: table.name,
    Key: keys.app(table.org, appId),
    ConsistentRead: options.consistent,
  }));
  if (!isLiveApp(Item)) throw appNotFound();
  return toApp(Item);
}

export async function listApps(table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": orgPartition(table.org), ":prefix": keys.appPrefix },
    FilterExpression: "attribute_not_exists(deletingSince)",
    ExclusiveStartKey: page.cursor
      ? decodeCursor(cursorKey, table.org, page.cursor, { partition: orgPartition(table.org), sortPrefix: keys.appPrefix })
      : undefined,
    Limit: page.limit,
  }));
  return {
    items: Items.map(toApp),
    cursor: LastEvaluatedKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined,
  };
}

/**
 * Field-level update (concurrent updates of different fields both apply). A transaction returns
 * no attributes, so the answer is the state read just before with this change applied.
 */
export async function updateApp(
  table: TenantTable,
  appId: string,
  change: { name?: string; description?: string | null; build?: BuildSettings | null },
  audit: PendingAudit,
  now = new Date(),
): Promise<App> {
  const current = await getApp(table, appId, { consistent: true });
  const sets = ["updatedAt = :at"];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ":at": now.toISOString() };
  const names: Record<string, string> = {};
  if (change.name !== undefined) {
    names["#name"] = "name";
    sets.push("#name = :name");
    values[":name"] = change.name;
  }
  if (change.description === null) removes.push("description");
  else if (change.description !== undefined) {
    sets.push("description = :description");
    values[":description"] = change.description;
  }
  if (change.build !== undefined) names["#build"] = "build";
  if (change.build === null) removes.push("#build");
  else if (change.build !== undefined) {
    sets.push("#build = :build");
    values[":build"] = { command: change.build.command };
  }
  const changed = Object.keys(change).filter((field) => change[field as keyof typeof change] !== undefined);
  await rejectedAsNotFound(commitAudited(table, audit, { appId, changed } satisfies AppChange, [{
    name: "app",
    Update: {
      TableName: table.name,
      Key: keys.app(table.org, appId),
      UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
      ConditionExpression: LIVE_APP,
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: values,
    },
  }]));
  const next: App = { ...current, updatedAt: now.toISOString() };
  if (change.name !== undefined) next.name = change.name;
  if (change.description === null) delete next.description;
  else if (change.description !== undefined) next.description = change.description;
  if (change.build === null) delete next.build;
  else if (change.build !== undefined) next.build = { command: change.build.command };
  return next;
}

/**
 * Deletes an app in an order that is safe to interrupt and to repeat: mark it and its listing
 * heads deleting (audited in the same transaction; no credential write and no new deployment
 * commits after that), destroy its KEK (nothing stored can be decrypted from then on), remove every
 * item of its partition, and only then the app item with its heads. A retry after a crash picks up
 * an app that is already marked.
 *
 * An app with a deployment that has not ended is refused (409), not cancelled: a release may be
 * landing in the target at that moment, and the records it writes would be shredded under it. The
 * refusal is race-free: the mark is conditioned on the deployments head holding no active
 * deployment, and a deployment is created only together with its id on that head, unless it is
 * marked (records.ts createDeployment). Cancel the deployment, or let it end, then delete.
 */
export async function deleteApp(table: TenantTable, keyStore: KeyStore, appId: string, audit: PendingAudit, now = new Date()): Promise<void> {
  const deletingSince = "SET deletingSince = if_not_exists(deletingSince, :at)";
  const at = { ":at": now.toISOString() };
  const heads = keys.appListingHeads(table.org, appId);
  const deploymentsHead = keys.appListingHead(table.org, appId, APP_LISTINGS.deployments);
  try {
    await rejectedAsNotFound(commitAudited(table, audit, { appId } satisfies AppChange, [
      {
        name: "app",
        Update: {
          TableName: table.name,
          Key: keys.app(table.org, appId),
          UpdateExpression: deletingSince,
          ConditionExpression: "attribute_exists(PK)",
          ExpressionAttributeValues: at,
        },
      },
      // Otherwise unconditional: an app made before heads existed gets them here, already marked.
      ...heads.map((Key): TransactionItem => ({
        name: headName(Key),
        Update: {
          TableName: table.name,
          Key,
          UpdateExpression: `${deletingSince}, #type = :type, appId = :app`,
          ...(Key.SK === deploymentsHead.SK && { ConditionExpression: `attribute_not_exists(${ACTIVE_DEPLOYMENTS})` }),
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ...at, ":type": APP_LISTING_HEAD_TYPE, ":app": appId },
        },
      })),
    ]), headName(deploymentsHead));
  } catch (error) {
    if (!(error instanceof DeploymentsActive)) throw error;
    const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: deploymentsHead, ConsistentRead: true }));
    const active = [...((Item?.[ACTIVE_DEPLOYMENTS] as Set<string> | undefined) ?? [])].sort();
    throw conflict(`The app has deployments that have not ended${active.length ? ` (${active.join(", ")})` : ""}; cancel them or wait for them to end, then delete the app.`);
  }
  await shredCredentialStore(keyStore, { org: table.org, app: appId });
  // Everything else the app's partition holds goes too (credentials, deployment records,
  // idempotency keys); its listing heads go last, with the app item, and say "deleting" until then.
  const removed = await purgePartition(table, appPartition(table.org, appId), heads);
  logger.info("app items removed", { app: appId, count: removed });
  // The app leaves the org's quota with its item: one transaction, conditioned on the item, so a
  // rerun after a crash never counts it out twice. Apps made before quotas have no shard.
  const { Item: app } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.app(table.org, appId), ConsistentRead: true }));
  if (!app) return;
  const shard = app[QUOTA_SHARD_ATTRIBUTE];
  try {
    await transact(table, [
      { name: "app", Delete: { TableName: table.name, Key: keys.app(table.org, appId), ConditionExpression: "attribute_exists(PK)" } },
      ...heads.map((Key) => ({ name: headName(Key), Delete: { TableName: table.name, Key } })),
      ...(typeof shard === "number" ? [uncountOne(table, appsQuota(table.org), shard)] : []),
    ]);
  } catch (error) {
    // Another delete of the same app finished first.
    if (!(error instanceof TransactionRefused && error.failed("app"))) throw error;
  }
}

class DeploymentsActive extends InternalError {
  override readonly name = "DeploymentsActive";
}

/**
 * The app's own condition (it exists) failed inside the transaction: nothing was written. The
 * item `activeHead`, when given, is the deployments head, whose condition is "none active".
 */
async function rejectedAsNotFound<T>(write: Promise<T>, activeHead?: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (activeHead && error.failed(activeHead)) throw new DeploymentsActive("the app has deployments that have not ended");
    if (error.failed("app")) throw appNotFound();
    throw error;
  }
}
