import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { TABLE_SCHEMA } from "./table-schema.ts";
import type { Table } from "./tables.ts";

type PlatformIndex = (typeof TABLE_SCHEMA.indexes)[keyof typeof TABLE_SCHEMA.indexes];

/**
 * The keys of every item in a sparse platform index whose sort key is at or before `upTo`, oldest
 * first, every page: one Query per page on the index's one partition value, never a Scan. `table`
 * must be the handle built for that index (data/tables.ts), the only one the guard lets query it.
 */
export async function platformIndexKeys(table: Table, index: PlatformIndex, upTo: string): Promise<Record<string, unknown>[]> {
  const keys: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new QueryCommand({
      TableName: table.name,
      IndexName: index.name,
      KeyConditionExpression: "#partition = :partition AND #sort <= :upTo",
      ExpressionAttributeNames: { "#partition": index.partitionKey, "#sort": index.sortKey },
      ExpressionAttributeValues: { ":partition": index.partitionValue, ":upTo": upTo },
      ExclusiveStartKey: start,
    }));
    keys.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return keys;
}
