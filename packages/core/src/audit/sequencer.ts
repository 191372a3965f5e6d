import { MAX_AUDIT_SEQ } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { leafOf, type AuditEntry, type AuditRecord, type LogEntry } from "./entry.ts";
import { BatchRefused } from "./errors.ts";
import { appendLeaves } from "./merkle/compact.ts";
import type { CheckpointSigner } from "./signer.ts";
import { commitBatch, readEntriesFrom, readRecords, readTreeState, type BatchEntries, type TreeState } from "./tree-store.ts";
import { signTreeHead } from "./tree-heads.ts";

/**
 * The sequencer: one writer per org that turns committed records into log entries. It takes
 * records in the order they committed (the table stream's order; see stream.ts), gives them
 * consecutive seqs, adds them to the org's Merkle tree and signs the new head, all in one
 * transaction per batch (tree-store.ts):
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

/** Where the sequencer may be interrupted, for the fault tests. */
export type SequencerStep = "read-head" | "sign" | "commit" | "committed";

export type SequencerOptions = {
  signer: CheckpointSigner;
  now?: () => Date;
  /** Called before each step (and once after a commit) with the org: a test throws here to crash the sequencer. */
  fault?: (step: SequencerStep, org: string) => void | Promise<void>;
};

/**
 * Grows the tree by `entries` in one transaction and returns the new state. Throws BatchRefused
 * when the table refused it (the caller judges why).
 */
async function grow(table: TenantTable, state: TreeState, growth: BatchEntries, options: SequencerOptions): Promise<TreeState> {
  const grown = appendLeaves(state.treeSize, state.frontier, growth.entries.map(leafOf));
  if (grown.size > MAX_AUDIT_SEQ) throw new Error(`the audit log of ${table.org} is full`);
  await options.fault?.("sign", table.org);
  const head = await signTreeHead(options.signer, table.org, grown.size, grown.root, (options.now ?? (() => new Date()))());
  await options.fault?.("commit", table.org);
  await commitBatch(table, { ...growth, nodesPerLeaf: grown.nodesPerLeaf, head, frontier: grown.frontier });
  await options.fault?.("committed", table.org);
  return { treeSize: grown.size, rootHash: grown.root, frontier: grown.frontier, head };
}

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
    try {
      await grow(table, state, { kind: "new", entries }, options);
      queue = queue.slice(batch.length);
      added += batch.length;
      idleRounds = 0;
    } catch (error) {
      if (!(error instanceof BatchRefused)) throw error;
      const gone = error.alreadySequenced;
      if (gone.size) {
        // Already sequenced: drop them, and place the others against the head as it now is.
        queue = queue.filter((record) => !gone.has(record.id));
        idleRounds = 0;
        continue;
      }
      if (error.heldByLegacyEntry) {
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
    const legacy: LogEntry[] = [];
    for (const { entry, inTree } of await readEntriesFrom(table, current.treeSize + 1, SEQUENCE_BATCH * 2)) {
      if (inTree || entry.seq !== current.treeSize + legacy.length + 1) break;
      legacy.push(entry);
    }
    if (!legacy.length) return;
    try {
      current = await grow(table, current, { kind: "legacy", entries: legacy }, options);
    } catch (error) {
      if (!(error instanceof BatchRefused)) throw error;
      return; // Another sequencer adopted them first: the caller re-reads the head.
    }
  }
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
