import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { encodeTime } from "ulid";
import { auditPartition, auditRecordPartition, keys, MAX_AUDIT_SEQ } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { TransactItem } from "./chain.ts";
import { leafOf, type AuditEntry, type AuditRecord, type LogEntry } from "./entry.ts";
import { appendLeaves, type Frontier } from "./merkle/compact.ts";
import { EMPTY_ROOT } from "./merkle/rfc6962.ts";
import { entryOf, treeHeadOf, withoutKeys } from "./read.ts";
import type { CheckpointSigner } from "./signer.ts";
import { signTreeHead, type SignedTreeHead } from "./tree-heads.ts";

/**
 * The sequencer: one writer per org that turns committed records into log entries. It takes
 * records in the order they committed (the table stream's order; see stream.ts), gives them
 * consecutive seqs, adds them to the org's Merkle tree and signs the new head, all in one
 * transaction per batch:
 *   Put SEQ#<n+1..n+k>   the entries, each with the tree nodes it completes (if absent);
 *   Delete record × k    the records (only if still there: a record is sequenced once);
 *   Put HEAD#<n+k>       the signed head and the tree's new right edge (if absent).
 * So a crash or a redelivery at any point converges: before the commit nothing happened; after
 * it the records are gone, and a rerun skips them. Two sequencers of one org (a redelivery
 * overlapping a drain) cannot both commit: their entries and heads collide on key.
 */

/** Entries per transaction: k entries + k record deletes + 1 head ≤ DynamoDB's 100 items. */
export const SEQUENCE_BATCH = 49;
const MAX_ROUNDS_WITHOUT_PROGRESS = 20;

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

/** Where the sequencer may be interrupted, for the fault tests. */
export type SequencerStep = "read-head" | "sign" | "commit" | "committed";

export type SequencerOptions = {
  signer: CheckpointSigner;
  now?: () => Date;
  /** Called before each step (and once after a commit) with the org: a test throws here to crash the sequencer. */
  fault?: (step: SequencerStep, org: string) => void | Promise<void>;
};

/** One batch: the entries to place, and the transaction items that place them. */
type Growth = { entries: LogEntry[]; write: (entry: LogEntry, nodes: string[]) => TransactItem; extra: TransactItem[] };

class Collision extends Error {}

/**
 * Grows the tree by `growth` in one transaction. Returns normally when it committed; throws
 * Collision when another writer moved the tree first (the caller re-reads and retries), or
 * TransactionCanceledException with the reasons for the caller to judge.
 */
async function grow(table: TenantTable, state: TreeState, growth: Growth, options: SequencerOptions): Promise<TreeState> {
  const grown = appendLeaves(state.treeSize, state.frontier, growth.entries.map(leafOf));
  if (grown.size > MAX_AUDIT_SEQ) throw new Error(`the audit log of ${table.org} is full`);
  await options.fault?.("sign", table.org);
  const head = await signTreeHead(options.signer, table.org, grown.size, grown.root, (options.now ?? (() => new Date()))());
  await options.fault?.("commit", table.org);
  const TransactItems = [
    ...growth.entries.map((entry, i) => growth.write(entry, grown.nodesPerLeaf[i]!)),
    ...growth.extra,
    { Put: { TableName: table.name, Item: { ...keys.auditTreeHead(table.org, grown.size), ...head, frontier: grown.frontier }, ConditionExpression: "attribute_not_exists(PK)" } },
  ];
  await table.client.send(new TransactWriteCommand({ TransactItems, ClientRequestToken: head.signature.slice(0, 36) }));
  await options.fault?.("committed", table.org);
  return { treeSize: grown.size, rootHash: grown.root, frontier: grown.frontier, head };
}

const putEntry = (table: TenantTable) => (entry: LogEntry, nodes: string[]): TransactItem => ({
  Put: { TableName: table.name, Item: { ...keys.auditEntry(table.org, entry.seq), ...entry, nodes }, ConditionExpression: "attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" },
});

const reasonsOf = (error: TransactionCanceledException) => (error.CancellationReasons ?? []).map((reason) => ({
  code: reason.Code ?? "Unknown",
  item: reason.Item ? unmarshall(reason.Item as never) : undefined,
}));

/**
 * Sequences `records` (all of one org, in commit order). Records already sequenced (a
 * redelivery, or a drain that got there first) are skipped. Returns how many entries it added.
 */
export async function sequenceRecords(table: TenantTable, records: readonly AuditRecord[], options: SequencerOptions): Promise<number> {
  const seen = new Set<string>();
  let queue = records.filter((record) => record.org === table.org && !seen.has(record.id) && seen.add(record.id));
  let added = 0;
  let idleRounds = 0;
  while (queue.length) {
    if (++idleRounds > MAX_ROUNDS_WITHOUT_PROGRESS) throw new Error(`audit sequencing of ${table.org} made no progress`);
    await options.fault?.("read-head", table.org);
    const state = await readTreeState(table);
    const batch = queue.slice(0, SEQUENCE_BATCH);
    const entries: AuditEntry[] = batch.map((record, i) => ({ ...record, seq: state.treeSize + i + 1 }));
    const deletes: TransactItem[] = batch.map((record) => ({
      Delete: { TableName: table.name, Key: keys.auditRecord(table.org, record.id), ConditionExpression: "attribute_exists(PK)" },
    }));
    try {
      await grow(table, state, { entries, write: putEntry(table), extra: deletes }, options);
      queue = queue.slice(batch.length);
      added += batch.length;
      idleRounds = 0;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = reasonsOf(error);
      const gone = new Set(batch.filter((_, i) => reasons[entries.length + i]?.code === "ConditionalCheckFailed").map((record) => record.id));
      if (gone.size) {
        // Already sequenced: drop them, and place the others against the head as it now is.
        queue = queue.filter((record) => !gone.has(record.id));
        idleRounds = 0;
        continue;
      }
      const taken = reasons[0];
      if (taken?.code === "ConditionalCheckFailed" && taken.item && !Array.isArray(taken.item.nodes)) {
        // The seq is held by an entry of the legacy chain that is not in the tree yet.
        await adoptLegacyEntries(table, state, options);
        continue;
      }
      // Another sequencer moved the tree (or a conflict in flight): re-read and try again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }
  return added;
}

/**
 * Migration: places the entries of an org's legacy hash chain (version 1, written before the
 * tree existed) in the tree, in seq order and unchanged but for the nodes they close, so the
 * first head commits to the whole old chain. Resumable like any batch.
 */
async function adoptLegacyEntries(table: TenantTable, state: TreeState, options: SequencerOptions): Promise<void> {
  let current = state;
  for (;;) {
    const { Items = [] } = await table.client.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "PK = :pk AND SK BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":pk": auditPartition(table.org),
        ":from": keys.auditEntry(table.org, current.treeSize + 1).SK,
        ":to": keys.auditEntry(table.org, current.treeSize + SEQUENCE_BATCH * 2).SK,
      },
      Limit: SEQUENCE_BATCH * 2,
      ConsistentRead: true,
    }));
    const legacy = [];
    for (const item of Items) {
      if (Array.isArray(item.nodes) || item.seq !== current.treeSize + legacy.length + 1) break;
      legacy.push(entryOf(item));
    }
    if (!legacy.length) return;
    try {
      current = await grow(table, current, {
        entries: legacy,
        write: (entry, nodes) => ({
          Update: {
            TableName: table.name,
            Key: keys.auditEntry(table.org, entry.seq),
            UpdateExpression: "SET nodes = :nodes",
            ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(nodes)",
            ExpressionAttributeValues: { ":nodes": nodes },
          },
        }),
        extra: [],
      }, options);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      return; // Another sequencer adopted them first: the caller re-reads the head.
    }
  }
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

/**
 * Recovery: sequences every record still waiting (or, with `committedBefore`, every one whose id
 * was made before that time), in id (ULID) order. For records whose stream delivery was lost (a
 * stream keeps records 24 hours; a poison batch past its retries): the stream is the normal path,
 * and each later batch of the org catches up what it left behind (stream.ts).
 */
export async function drainRecords(table: TenantTable, options: SequencerOptions, committedBefore?: number): Promise<number> {
  let added = 0;
  for (;;) {
    const records = await readRecords(table, SEQUENCE_BATCH * 4, committedBefore);
    if (!records.length) return added;
    added += await sequenceRecords(table, records, options);
  }
}
