import { BatchGetCommand, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor } from "../data/cursor.ts";
import { auditPartition, auditRecordPartition, keys, type ItemKey } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { StoredAnchor } from "./anchors.ts";
import { canonicalJson, type LogEntry } from "./entry.ts";
import type { Checkpoint, SignedTreeHead } from "./tree-heads.ts";

/** An item as stored, without the table's key attributes. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { PK: _pk, SK: _sk, ...rest } = item;
  return rest as T;
}

/** An entry item as the log shows it: exactly what its leaf hash covers (no keys, no tree nodes). */
export function entryOf(item: Record<string, unknown>): LogEntry {
  const { PK: _pk, SK: _sk, nodes: _nodes, ...entry } = item;
  return entry as LogEntry;
}

/** A tree head item as the API shows it: the signed head, without the frontier the sequencer keeps on it. */
export function treeHeadOf(item: Record<string, unknown>): SignedTreeHead {
  const { PK: _pk, SK: _sk, frontier: _frontier, ...head } = item;
  return head as SignedTreeHead;
}

const MAX_BATCH_GET = 100;

/** The items under `itemKeys` that exist, by sort key: consistent BatchGets of at most 100 keys, unprocessed keys retried. */
export async function readItems(table: TenantTable, itemKeys: readonly ItemKey[]): Promise<Map<string, Record<string, any>>> {
  const found = new Map<string, Record<string, any>>();
  let pending = [...itemKeys];
  while (pending.length) {
    const { Responses = {}, UnprocessedKeys = {} } = await table.client.send(new BatchGetCommand({
      RequestItems: { [table.name]: { Keys: pending.slice(0, MAX_BATCH_GET), ConsistentRead: true } },
    }));
    for (const item of Responses[table.name] ?? []) found.set(String(item.SK), item);
    pending = [...((UnprocessedKeys[table.name]?.Keys ?? []) as ItemKey[]), ...pending.slice(MAX_BATCH_GET)];
  }
  return found;
}

/** Counted up to this many: enough for a client to see whether its own record is still waiting. */
export const PENDING_COUNT_LIMIT = 1000;

/** How many of the org's records are committed but not yet sequenced (at most PENDING_COUNT_LIMIT). */
export async function pendingCount(table: TenantTable): Promise<number> {
  const { Count = 0 } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk",
    ExpressionAttributeValues: { ":pk": auditRecordPartition(table.org) },
    Select: "COUNT",
    Limit: PENDING_COUNT_LIMIT,
  }));
  return Count;
}

/** The key condition of a Query for the items under `prefix` in the org's audit partition. */
export function auditQuery(table: TenantTable, prefix: string, values: Record<string, unknown> = {}) {
  return {
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ...values, ":pk": auditPartition(table.org), ":prefix": prefix },
  };
}

/** Reads a cursor back, and only as a key under `prefix` in this org's audit partition. */
export const auditStartKey = (table: TenantTable, cursorKey: string, cursor: string | undefined, prefix: string) =>
  cursor ? decodeCursor(cursorKey, table.org, cursor, { partition: auditPartition(table.org), sortPrefix: prefix }) : undefined;

/**
 * Every item of the org's audit partition in key order, read consistently: its legacy
 * checkpoints, its signed tree heads, then its entries in seq order (data/keys.ts). One Query
 * per DynamoDB page (1 MB).
 */
export async function* readAuditPartition(table: TenantTable): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "PK = :pk",
      ExpressionAttributeValues: { ":pk": auditPartition(table.org) },
      ExclusiveStartKey: start,
      ConsistentRead: true,
    }));
    yield* Items;
    start = LastEvaluatedKey;
  } while (start);
}

/** The audit partition read as the log it holds: its anchors, then its entries with the tree nodes stored on each. */
export async function* readStoredLog(table: TenantTable): AsyncGenerator<StoredAnchor | { kind: "entry"; entry: LogEntry; nodes: unknown }> {
  for await (const item of readAuditPartition(table)) {
    const sortKey = String(item.SK);
    if (sortKey.startsWith(keys.auditEntryPrefix)) yield { kind: "entry", entry: entryOf(item), nodes: item.nodes };
    else if (sortKey.startsWith(keys.auditTreeHeadPrefix)) yield { kind: "head", head: treeHeadOf(item), frontier: item.frontier };
    else if (sortKey.startsWith(keys.auditCheckpointPrefix)) yield { kind: "checkpoint", checkpoint: withoutKeys<Checkpoint>(item) };
  }
}

/** Newest first, cursor-paginated, under `prefix` (heads or legacy checkpoints). */
async function listAnchors<T>(table: TenantTable, prefix: string, read: (item: Record<string, unknown>) => T, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    ...auditQuery(table, prefix),
    ScanIndexForward: false,
    ExclusiveStartKey: auditStartKey(table, cursorKey, page.cursor, prefix),
    Limit: page.limit,
    ConsistentRead: true,
  }));
  return { items: Items.map(read), cursor: LastEvaluatedKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined };
}

export const listTreeHeads = (table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) =>
  listAnchors(table, keys.auditTreeHeadPrefix, treeHeadOf, cursorKey, page);

export const listCheckpoints = (table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) =>
  listAnchors(table, keys.auditCheckpointPrefix, (item) => withoutKeys<Checkpoint>(item), cursorKey, page);

export type AuditFilter = { from?: string; to?: string; actor?: string; action?: string };
export type AuditPage = { limit: number; cursor?: string; order?: "asc" | "desc"; consistent?: boolean };

function filterExpression(filter: AuditFilter): Pick<QueryCommandInput, "FilterExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues"> {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.from) {
    clauses.push("#time >= :from");
    names["#time"] = "time";
    values[":from"] = new Date(filter.from).toISOString();
  }
  if (filter.to) {
    clauses.push("#time <= :to");
    names["#time"] = "time";
    values[":to"] = new Date(filter.to).toISOString();
  }
  if (filter.actor) {
    clauses.push("#actor.#sub = :actor");
    Object.assign(names, { "#actor": "actor", "#sub": "sub" });
    values[":actor"] = filter.actor;
  }
  if (filter.action) {
    clauses.push("#action = :action");
    names["#action"] = "action";
    values[":action"] = filter.action;
  }
  if (!clauses.length) return {};
  return { FilterExpression: clauses.join(" AND "), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** At most this many DynamoDB pages per API page, so a sparse filter cannot run unbounded. */
const MAX_QUERY_PAGES = 10;
/** Entries evaluated per Query when a filter may drop most of them. */
const FILTERED_READ = 500;

/**
 * One page of matching entries. DynamoDB applies Limit before the filter: without a filter each
 * Query asks for exactly the entries still wanted; with one it reads wider, and when it finds
 * more than wanted the cursor is the key of the last entry returned.
 */
export async function queryAudit(table: TenantTable, cursorKey: string, filter: AuditFilter, page: AuditPage) {
  const filtered = filterExpression(filter);
  const items: LogEntry[] = [];
  let start = auditStartKey(table, cursorKey, page.cursor, keys.auditEntryPrefix);
  for (let round = 0; round < MAX_QUERY_PAGES && items.length < page.limit; round++) {
    const wanted = page.limit - items.length;
    const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
      ...filtered,
      ...auditQuery(table, keys.auditEntryPrefix, filtered.ExpressionAttributeValues),
      ScanIndexForward: page.order === "asc",
      ExclusiveStartKey: start,
      Limit: filtered.FilterExpression ? Math.max(wanted, FILTERED_READ) : wanted,
      ConsistentRead: page.consistent,
    }));
    const taken = Items.slice(0, wanted);
    items.push(...taken.map(entryOf));
    const last = taken.at(-1);
    start = Items.length > wanted && last ? { PK: last.PK, SK: last.SK } : LastEvaluatedKey;
    if (!start) break;
  }
  return { items, cursor: start ? encodeCursor(cursorKey, table.org, start) : undefined };
}

/**
 * One page of the export: JSON Lines, one canonical entry per line, in seq order. Read
 * consistently, so a page never misses an entry another page or a verify already saw.
 */
export async function exportAudit(table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { items, cursor } = await queryAudit(table, cursorKey, {}, { ...page, order: "asc", consistent: true });
  return { jsonl: items.map((entry) => `${canonicalJson(entry)}\n`).join(""), count: items.length, cursor };
}
