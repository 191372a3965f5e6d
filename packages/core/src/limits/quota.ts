import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { QuotaExceeded } from "./errors.ts";
import type { LimitName } from "./settings.ts";

/**
 * An exact count under a limit, kept in QUOTA_SHARDS items so that concurrent creations rarely
 * meet on one item (a single counter would serialise an org's writes again, as its audit chain
 * once did). The limit is split between the shards: shard k holds at most capOf(limit, k), and the
 * caps add up to the limit, so the total never exceeds it. A creation increments one shard in the
 * same transaction as the item it creates, conditioned on that shard's cap; the item records its
 * shard, and its deletion decrements that shard in its own transaction. A crash at any point
 * therefore leaves the count equal to the items that exist.
 */
export type Quota = { name: LimitName; shardName: string; partition: string; /** What is counted, for the refusal. */ what: string };

export const QUOTA_SHARDS = 8;
/** The attribute an item keeps its shard in. */
export const QUOTA_SHARD_ATTRIBUTE = "quotaShard";

const capOf = (limit: number, shard: number): number =>
  Math.floor(limit / QUOTA_SHARDS) + (shard < limit % QUOTA_SHARDS ? 1 : 0);

/** A shard with room: at random among those whose count (when known) is under its cap. */
function pickShard(limit: number, counts?: readonly number[]): number | undefined {
  const open: number[] = [];
  for (let shard = 0; shard < QUOTA_SHARDS; shard++) if ((counts?.[shard] ?? 0) < capOf(limit, shard)) open.push(shard);
  return open.length ? open[Math.floor(Math.random() * open.length)] : undefined;
}

/** The transaction item ("quota") that counts one more in `shard`, refused (ConditionalCheckFailed) once the shard is at its cap. */
export function countOne(table: TenantTable, quota: Quota, shard: number, limit: number): TransactionItem {
  return {
    name: "quota",
    Update: {
      TableName: table.name,
      Key: keys.quotaShard(quota.partition, quota.shardName, shard),
      UpdateExpression: "SET #count = if_not_exists(#count, :zero) + :one",
      ConditionExpression: "attribute_not_exists(#count) OR #count < :cap",
      ExpressionAttributeNames: { "#count": "count" },
      ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":cap": capOf(limit, shard) },
    },
  };
}

/** The transaction item that counts one less in the shard an item recorded. */
export function uncountOne(table: TenantTable, quota: Quota, shard: number): TransactionItem {
  return {
    name: "quota",
    Update: {
      TableName: table.name,
      Key: keys.quotaShard(quota.partition, quota.shardName, shard),
      UpdateExpression: "ADD #count :minusOne",
      ExpressionAttributeNames: { "#count": "count" },
      ExpressionAttributeValues: { ":minusOne": -1 },
    },
  };
}

/** Each shard's count, in one strongly consistent Query. */
async function shardCounts(table: TenantTable, quota: Quota): Promise<number[]> {
  const prefix = keys.quotaShardPrefix(quota.shardName);
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": quota.partition, ":prefix": prefix },
    ConsistentRead: true,
  }));
  return countsOf(Items, quota);
}

/** Each shard's count among `items` (other items are ignored). */
function countsOf(items: readonly Record<string, unknown>[], quota: Quota): number[] {
  const prefix = keys.quotaShardPrefix(quota.shardName);
  const counts = new Array<number>(QUOTA_SHARDS).fill(0);
  for (const item of items) {
    if (!String(item.SK).startsWith(prefix)) continue;
    const shard = Number(String(item.SK).slice(prefix.length));
    if (Number.isInteger(shard) && shard >= 0 && shard < QUOTA_SHARDS) counts[shard] = Number(item.count ?? 0);
  }
  return counts;
}

/** The quota's count: the sum of its shards among `items`. */
export const totalOf = (items: readonly Record<string, unknown>[], quota: Quota): number =>
  countsOf(items, quota).reduce((sum, count) => sum + count, 0);

/**
 * Commits `write(countItem, shard)` (a transaction holding the count item) in a shard with room,
 * and returns what it returns. A shard found full is learnt with one read of every shard's count,
 * and another is tried; `write` returns undefined when the count item was the refused one. When
 * no shard has room the quota is used up: 409 naming the limit.
 */
export async function withinQuota<T>(
  table: TenantTable,
  quota: Quota,
  limit: number,
  write: (countItem: TransactionItem, shard: number) => Promise<T | undefined>,
): Promise<T> {
  let counts: number[] | undefined;
  for (let attempt = 0; attempt <= QUOTA_SHARDS; attempt++) {
    const shard = pickShard(limit, counts);
    if (shard === undefined) break;
    const written = await write(countOne(table, quota, shard, limit), shard);
    if (written !== undefined) return written;
    counts = await shardCounts(table, quota);
  }
  throw new QuotaExceeded(quota.name, limit, quota.what);
}
