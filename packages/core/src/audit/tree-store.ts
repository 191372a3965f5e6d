import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { encodeTime } from "ulid";
import { auditPartition, auditRecordPartition, keys, type ItemKey } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionContended, TransactionRefused } from "../data/errors.ts";
import { transact, type TransactionItem } from "../data/transaction.ts";
import type { AuditEntry, AuditRecord, LogEntry } from "./entry.ts";
import { BatchRefused } from "./errors.ts";
import { nodeKey, ownerOfNode, type Frontier, type NodeRef } from "./merkle/compact.ts";
import { EMPTY_ROOT } from "./merkle/rfc6962.ts";
import { entryOf, readItems, treeHeadOf, withoutKeys } from "./read.ts";
import type { SignedTreeHead } from "./tree-heads.ts";

/**
 * The tree as the table holds it: the newest head (with the tree's right edge), the records
 * waiting to be sequenced, the nodes stored on the entries that complete them, and the one
 * transaction per batch that places entries and the new head. The sequencer and the proofs
 * reach the table only through here.
 */

/** The newest head of an org's tree, with what is needed to grow it. */
export type TreeState = { treeSize: number; rootHash: string; frontier: Frontier; head?: SignedTreeHead };

const EMPTY_TREE: TreeState = { treeSize: 0, rootHash: EMPTY_ROOT, frontier: [] };

/** An entry item as stored: the entry, plus the hashes of the complete subtrees it closes (nodes[0] is its leaf hash). */
export type EntryItem = LogEntry & { nodes: string[] };

/** The newest head, read consistently (the sequencer must build on what is committed). */
export async function readTreeState(table: TenantTable): Promise<TreeState> {
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": auditPartition(table.org), ":prefix": keys.auditTreeHeadPrefix },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  }));
  const item = Items[0];
  if (!item) return EMPTY_TREE;
  const head = treeHeadOf(item);
  return { treeSize: head.treeSize, rootHash: head.rootHash, frontier: item.frontier as Frontier, head };
}

/** Reads up to `limit` of an org's unsequenced records (made before `committedBefore`, when given), oldest id first. */
export async function readRecords(table: TenantTable, limit: number, committedBefore?: number): Promise<AuditRecord[]> {
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    // A ULID starts with its time: every id made before `committedBefore` sorts below this bound.
    KeyConditionExpression: committedBefore === undefined ? "PK = :pk" : "PK = :pk AND SK < :bound",
    ExpressionAttributeValues: {
      ":pk": auditRecordPartition(table.org),
      ...(committedBefore !== undefined && { ":bound": `${keys.auditRecordPrefix}${encodeTime(Math.max(committedBefore, 0), 10)}` }),
    },
    Limit: limit,
    ConsistentRead: true,
  }));
  return Items.map((item) => withoutKeys<AuditRecord>(item));
}

/** The records still waiting under `recordKeys`, in the keys' order. */
export async function readWaitingRecords(table: TenantTable, recordKeys: readonly ItemKey[]): Promise<AuditRecord[]> {
  const found = await readItems(table, recordKeys);
  // The partition names the org; a record claiming another org is not sequenced anywhere.
  return recordKeys.map((key) => found.get(key.SK)).filter((item) => item?.org === table.org).map((item) => withoutKeys<AuditRecord>(item!));
}

/** Up to `count` stored entries from seq `first` on, in seq order, each with whether it is in the tree yet (carries its nodes). */
export async function readEntriesFrom(table: TenantTable, first: number, count: number): Promise<{ entry: LogEntry; inTree: boolean }[]> {
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND SK BETWEEN :from AND :to",
    ExpressionAttributeValues: {
      ":pk": auditPartition(table.org),
      ":from": keys.auditEntry(table.org, first).SK,
      ":to": keys.auditEntry(table.org, first + count - 1).SK,
    },
    Limit: count,
    ConsistentRead: true,
  }));
  return Items.map((item) => ({ entry: entryOf(item), inTree: Array.isArray(item.nodes) }));
}

/**
 * One batch of the sequencer: its entries, each with the nodes it completes, and the head they
 * grow the tree to. `new` entries are put and their records deleted; `legacy` entries (of the
 * hash chain that came before the tree) are already stored and only gain their nodes.
 */
export type BatchEntries = { kind: "new"; entries: readonly AuditEntry[] } | { kind: "legacy"; entries: readonly LogEntry[] };
export type Batch = BatchEntries & {
  nodesPerLeaf: readonly string[][];
  head: SignedTreeHead;
  frontier: Frontier;
};

const entryName = (entry: LogEntry) => `entry:${entry.seq}`;
const recordName = (id: string) => `record:${id}`;

const putEntry = (table: TenantTable, entry: LogEntry, nodes: string[]): TransactionItem => ({
  name: entryName(entry),
  Put: { TableName: table.name, Item: { ...keys.auditEntry(table.org, entry.seq), ...entry, nodes }, ConditionExpression: "attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" },
});

const addNodes = (table: TenantTable, entry: LogEntry, nodes: string[]): TransactionItem => ({
  name: entryName(entry),
  Update: {
    TableName: table.name,
    Key: keys.auditEntry(table.org, entry.seq),
    UpdateExpression: "SET nodes = :nodes",
    ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(nodes)",
    ExpressionAttributeValues: { ":nodes": nodes },
  },
});

/** A record is sequenced once: its delete fails if another batch already took it. */
const deleteRecord = (table: TenantTable, id: string): TransactionItem => ({
  name: recordName(id),
  Delete: { TableName: table.name, Key: keys.auditRecord(table.org, id), ConditionExpression: "attribute_exists(PK)" },
});

const putHead = (table: TenantTable, head: SignedTreeHead, frontier: Frontier): TransactionItem => ({
  name: "head",
  Put: { TableName: table.name, Item: { ...keys.auditTreeHead(table.org, head.treeSize), ...head, frontier }, ConditionExpression: "attribute_not_exists(PK)" },
});

/**
 * Writes `batch` in one transaction: the entries (put, or given their nodes), then the records'
 * deletes, then the head. Entries and heads collide on key, so two sequencers of one org cannot
 * both commit. Throws BatchRefused when a condition refused it.
 */
export async function commitBatch(table: TenantTable, batch: Batch): Promise<void> {
  const writeEntry = batch.kind === "new" ? putEntry : addNodes;
  const recordIds = batch.kind === "new" ? batch.entries.map((entry) => entry.id) : [];
  const items = [
    ...batch.entries.map((entry: LogEntry, i) => writeEntry(table, entry, batch.nodesPerLeaf[i]!)),
    ...recordIds.map((id) => deleteRecord(table, id)),
    putHead(table, batch.head, batch.frontier),
  ];
  try {
    await transact(table, items, { token: batch.head.signature.slice(0, 36) });
  } catch (error) {
    if (!(error instanceof TransactionRefused || error instanceof TransactionContended)) throw error;
    const refused = error instanceof TransactionRefused ? error : undefined;
    const gone = recordIds.filter((id) => refused?.failed(recordName(id)));
    const taken = batch.entries[0] && refused?.failed(entryName(batch.entries[0]))?.current;
    const heldByLegacyEntry = batch.kind === "new" && !!taken && !Array.isArray(taken.nodes);
    throw new BatchRefused(new Set(gone), heldByLegacyEntry);
  }
}

/** The item that holds node (level, index): the entry of the leaf that completes it. */
const nodeOwner = (table: TenantTable, ref: NodeRef): ItemKey => keys.auditEntry(table.org, ownerOfNode(ref.level, ref.index) + 1);

/**
 * What a proof needs, in one read: the node hashes `refs` name (by nodeKey), the entry at
 * `entrySeq` (when asked for) and the heads at `headSizes` that exist. A node missing from its
 * entry is a damaged log.
 */
export async function readProofItems(table: TenantTable, refs: readonly NodeRef[], wanted: { entrySeq?: number; headSizes: readonly number[] }) {
  const entryKeys = wanted.entrySeq === undefined ? [] : [keys.auditEntry(table.org, wanted.entrySeq)];
  const headKeys = wanted.headSizes.map((size) => keys.auditTreeHead(table.org, size));
  const itemKeys = [...refs.map((ref) => nodeOwner(table, ref)), ...entryKeys, ...headKeys];
  const items = await readItems(table, [...new Map(itemKeys.map((key) => [key.SK, key])).values()]);
  const nodes = new Map<string, string>();
  for (const ref of refs) {
    const hash = items.get(nodeOwner(table, ref).SK)?.nodes?.[ref.level];
    if (typeof hash !== "string") throw new Error(`audit log of ${table.org}: node ${nodeKey(ref.level, ref.index)} is missing`);
    nodes.set(nodeKey(ref.level, ref.index), hash);
  }
  const heads = new Map<number, SignedTreeHead>();
  headKeys.forEach((key, i) => {
    const item = items.get(key.SK);
    if (item) heads.set(wanted.headSizes[i]!, treeHeadOf(item));
  });
  const entry: LogEntry | undefined = entryKeys.map((key) => entryOf(items.get(key.SK)!))[0];
  return { nodes, entry, heads };
}
