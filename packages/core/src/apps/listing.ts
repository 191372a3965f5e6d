import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { getApp, isLiveApp } from "./apps.ts";
import { decodeCursor, encodeCursor } from "../data/cursor.ts";
import { appPartition, type AppListing } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { appNotFound } from "../errors.ts";

type Item = Record<string, unknown>;

/**
 * One page of an app-scoped listing, or 404 when the app does not exist or is being deleted
 * (exactly when getApp would say so).
 *
 * - A first page is one Query: it starts at the listing's head (the app's state, kept in the same
 *   transactions as the app item) and reads the page after it.
 * - A page after a cursor starts past the head, and a Query reads one contiguous key range, so
 *   the app item is read beside it (concurrently: the latency of one read, the cost of two). The
 *   signed cursor proves the app existed when it was minted, not that it still does.
 * - A first page that finds no head (an app written before heads existed, or no app) asks the app
 *   item, which stays the authority.
 *
 * `attributes`: what to read of each item (all of it when absent); keys come along for cursors.
 */
export async function appListingPage(
  table: TenantTable,
  cursorKey: string,
  appId: string,
  listing: AppListing,
  page: { limit: number; cursor?: string },
  attributes?: readonly string[],
): Promise<{ items: Item[]; cursor?: string }> {
  const partition = appPartition(table.org, appId);
  const start = page.cursor
    ? decodeCursor(cursorKey, table.org, page.cursor, { partition, sortPrefix: listing.prefix })
    : undefined;
  const query = table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND SK BETWEEN :from AND :to",
    ExpressionAttributeValues: { ":pk": partition, ":from": listing.from, ":to": listing.to },
    ScanIndexForward: listing.order === "asc",
    ExclusiveStartKey: start,
    // The head is read first and counts towards the limit.
    Limit: start ? page.limit : page.limit + 1,
    ...(attributes && projection([...attributes, "PK", "SK", "deletingSince"])),
  }));
  let reply: Awaited<typeof query>;
  if (start) {
    [reply] = await Promise.all([query, getApp(table, appId)]);
  } else {
    reply = await query;
    const head = reply.Items?.[0]?.SK === listing.head ? reply.Items[0] : undefined;
    if (!head) await getApp(table, appId);
    else if (!isLiveApp(head)) throw appNotFound();
  }
  const found = (reply.Items ?? []).filter((item) => item.SK !== listing.head);
  // Without a head the first page read one item too many: the page ends before it.
  const items = found.slice(0, page.limit);
  const last = found.length > page.limit ? { PK: items.at(-1)!.PK, SK: items.at(-1)!.SK } : reply.LastEvaluatedKey;
  return { items, cursor: last ? encodeCursor(cursorKey, table.org, last) : undefined };
}

const projection = (attributes: readonly string[]) => {
  const unique = [...new Set(attributes)];
  return {
    ProjectionExpression: unique.map((_, i) => `#a${i}`).join(", "),
    ExpressionAttributeNames: Object.fromEntries(unique.map((attribute, i) => [`#a${i}`, attribute])),
  };
};
