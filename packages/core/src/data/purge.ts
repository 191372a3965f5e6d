import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { ItemKey } from "./keys.ts";
import type { TenantTable } from "./tables.ts";

/**
 * Removes every item of one partition of the org, except `keep`, a page at a time (so a crash
 * resumes where it stopped). Returns how many items it removed.
 */
export async function purgePartition(table: TenantTable, partition: string, keep: readonly ItemKey[] = []): Promise<number> {
  const kept = new Set(keep.map((key) => key.SK));
  let removed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "PK = :pk",
      ExpressionAttributeValues: { ":pk": partition },
      ProjectionExpression: "PK, SK",
      ExclusiveStartKey: start,
    }));
    const itemKeys = ((page.Items ?? []) as ItemKey[]).filter((key) => !kept.has(key.SK));
    for (let i = 0; i < itemKeys.length; i += 25) await deleteBatch(table, itemKeys.slice(i, i + 25));
    removed += itemKeys.length;
    start = page.LastEvaluatedKey;
  } while (start);
  return removed;
}

async function deleteBatch(table: TenantTable, batch: ItemKey[]): Promise<void> {
  let requests: Record<string, unknown>[] = batch.map((Key) => ({ DeleteRequest: { Key } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 8) throw new Error("items could not be removed (throttled)");
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    const reply = await table.client.send(new BatchWriteCommand({ RequestItems: { [table.name]: requests } }));
    requests = (reply.UnprocessedItems?.[table.name] ?? []) as Record<string, unknown>[];
  }
}
