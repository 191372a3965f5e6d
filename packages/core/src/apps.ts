import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor } from "./data/cursor.ts";
import { keys, orgPartition } from "./data/keys.ts";
import type { TenantTable } from "./data/tables.ts";
import type { BuildSettings } from "./deployments/build-spec.ts";
import { newId } from "./ids.ts";
import { problems } from "./problem.ts";

/** `build` absent: the default build, which packages the source as it is. */
export type App = { id: string; name: string; description?: string; build?: BuildSettings; createdAt: string; updatedAt: string };

const toApp = (item: Record<string, any>): App => ({
  id: item.id, name: item.name, description: item.description, build: item.build, createdAt: item.createdAt, updatedAt: item.updatedAt,
});

const notFound = () => problems.notFound("No such app.");

export async function createApp(
  table: TenantTable,
  input: { name: string; description?: string; build?: BuildSettings },
  now = new Date(),
): Promise<App> {
  const at = now.toISOString();
  const app: App = { id: newId(), name: input.name, description: input.description, build: input.build, createdAt: at, updatedAt: at };
  await table.client.send(new PutCommand({
    TableName: table.name,
    Item: { ...keys.app(table.org, app.id), type: "app", ...app },
    ConditionExpression: "attribute_not_exists(PK)",
  }));
  return app;
}

export async function getApp(table: TenantTable, appId: string): Promise<App> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.app(table.org, appId) }));
  if (!Item) throw notFound();
  return toApp(Item);
}

export async function listApps(table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": orgPartition(table.org), ":prefix": keys.appPrefix },
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
  change: { name?: string; description?: string | null; build?: BuildSettings | null },
  now = new Date(),
): Promise<App> {
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
  try {
    const { Attributes } = await table.client.send(new UpdateCommand({
      TableName: table.name,
      Key: keys.app(table.org, appId),
      UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
      ConditionExpression: "attribute_exists(PK)",
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
    }));
    return toApp(Attributes!);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw notFound();
    throw error;
  }
}

export async function deleteApp(table: TenantTable, appId: string): Promise<void> {
  try {
    await table.client.send(new DeleteCommand({
      TableName: table.name,
      Key: keys.app(table.org, appId),
      ConditionExpression: "attribute_exists(PK)",
    }));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw notFound();
    throw error;
  }
}
