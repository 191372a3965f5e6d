import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { KeyStore } from "./credentials/key-store.ts";
import { discardCredentialStore, provisionCredentialStore, shredCredentialStore } from "./credentials/lifecycle.ts";
import { decodeCursor, encodeCursor } from "./data/cursor.ts";
import { keys, orgPartition } from "./data/keys.ts";
import type { TenantTable } from "./data/tables.ts";
import { newId } from "./ids.ts";
import { problems } from "./problem.ts";

export type App = { id: string; name: string; description?: string; createdAt: string; updatedAt: string };

const toApp = (item: Record<string, any>): App => ({
  id: item.id, name: item.name, description: item.description, createdAt: item.createdAt, updatedAt: item.updatedAt,
});

const notFound = () => problems.notFound("No such app.");

/**
 * An app being deleted carries `deletingSince`: it is gone for every reader, and no credential
 * write can commit against it (they are conditioned on LIVE_APP).
 */
export const LIVE_APP = "attribute_exists(PK) AND attribute_not_exists(deletingSince)";

/** Provisions the app's credential store first, so a failure never leaves an app without one. */
export async function createApp(
  table: TenantTable,
  keyStore: KeyStore,
  input: { name: string; description?: string },
  now = new Date(),
): Promise<App> {
  const at = now.toISOString();
  const app: App = { id: newId(), name: input.name, description: input.description, createdAt: at, updatedAt: at };
  const ref = { org: table.org, app: app.id };
  await provisionCredentialStore(keyStore, ref);
  try {
    await table.client.send(new PutCommand({
      TableName: table.name,
      Item: { ...keys.app(table.org, app.id), type: "app", ...app, ...keys.kekRotationIndex(at) },
      ConditionExpression: "attribute_not_exists(PK)",
    }));
  } catch (error) {
    await discardCredentialStore(keyStore, ref);
    throw error;
  }
  return app;
}

export async function getApp(table: TenantTable, appId: string): Promise<App> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.app(table.org, appId) }));
  if (!Item || Item.deletingSince) throw notFound();
  return toApp(Item);
}

export async function listApps(table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": orgPartition(table.org), ":prefix": keys.appPrefix },
    FilterExpression: "attribute_not_exists(deletingSince)",
    ExclusiveStartKey: page.cursor ? decodeCursor(cursorKey, table.org, page.cursor) : undefined,
    Limit: page.limit,
  }));
  return {
    items: Items.map(toApp),
    cursor: LastEvaluatedKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined,
  };
}

export async function updateApp(
  table: TenantTable,
  appId: string,
  change: { name?: string; description?: string | null },
  now = new Date(),
): Promise<App> {
  const sets = ["updatedAt = :at"];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ":at": now.toISOString() };
  if (change.name !== undefined) {
    sets.push("#name = :name");
    values[":name"] = change.name;
  }
  if (change.description === null) removes.push("description");
  else if (change.description !== undefined) {
    sets.push("description = :description");
    values[":description"] = change.description;
  }
  try {
    const { Attributes } = await table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: keys.app(table.org, appId),
      UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
      ConditionExpression: LIVE_APP,
      ExpressionAttributeNames: change.name !== undefined ? { "#name": "name" } : undefined,
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
    }));
    return toApp(Attributes!);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw notFound();
    throw error;
  }
}

/**
 * Deletes an app in an order that is safe to interrupt and to repeat: mark it deleting (no
 * credential write commits after that), destroy its KEK (nothing stored can be decrypted from
 * then on), remove its credential items, and only then the app item. A retry after a crash
 * picks up an app that is already marked.
 */
export async function deleteApp(table: TenantTable, keyStore: KeyStore, appId: string, now = new Date()): Promise<void> {
  try {
    await table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: keys.app(table.org, appId),
      UpdateExpression: "SET deletingSince = if_not_exists(deletingSince, :at)",
      ConditionExpression: "attribute_exists(PK)",
      ExpressionAttributeValues: { ":at": now.toISOString() },
    }));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw notFound();
    throw error;
  }
  await shredCredentialStore(table, keyStore, appId);
  await table.client.send(new DeleteCommand({ TableName: table.name, Key: keys.app(table.org, appId) }));
}
