import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { orgPartition } from "./keys.ts";
import type { TenantTable } from "./tables.ts";

export type Page = { limit: number; cursor?: string };
type Key = Record<string, unknown>;

/**
 * One page of the org's items whose sort key starts with `prefix`: the signed cursor is checked
 * on the way in (it must be this org's) and minted on the way out.
 */
export async function queryPage(
  table: TenantTable,
  cursorKey: string,
  prefix: string,
  page: Page,
  extra: Pick<QueryCommandInput, "ProjectionExpression" | "ExpressionAttributeNames"> = {},
) {
  const start = page.cursor
    ? decodeCursor(cursorKey, table.org, page.cursor, { partition: orgPartition(table.org), sortPrefix: prefix })
    : undefined;
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": orgPartition(table.org), ":prefix": prefix },
    ExclusiveStartKey: start,
    Limit: page.limit,
    ...extra,
  }));
  return {
    items: Items,
    /** The key the page started after, and the one the next page starts after (if any). */
    start: start as Key | undefined,
    last: LastEvaluatedKey as Key | undefined,
    cursorAfter: (key: Key | undefined) => (key ? encodeCursor(cursorKey, table.org, key) : undefined),
  };
}
