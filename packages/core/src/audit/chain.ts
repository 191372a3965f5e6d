import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { PutCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { keys, MAX_AUDIT_SEQ } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import { auditQuery } from "./read.ts";
import { sealEntry, type AuditDraft, type AuditEntry, type AuditTarget, type ChainHead } from "./entry.ts";

/**
 * Appending to an org's chain. The chain's uniqueness lives in the entry's own key: entry n+1
 * is written only if `SEQ#<n+1>` does not exist yet, so two writers that read the same head
 * cannot both extend it (no duplicate seq, no fork, no gap). The loser re-reads the head and
 * tries again with backoff. Reading the head is one consistent Query for the newest entry, so
 * an append costs one read and one conditional write, or rides inside the caller's transaction.
 */

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** What a service needs to commit a request's audit entry inside its own transaction. */
export interface PendingAudit {
  /** The entry for this request's success, naming what it acted on. */
  draft(target: AuditTarget): AuditDraft;
  /** Called once the entry is committed, so the request's entry is not written twice. */
  written(entry: AuditEntry): void;
}

/** A change item's own condition failed: the change is refused, and nothing was written. */
export class ChangeRejected extends Error {
  override readonly name = "ChangeRejected";
  constructor(readonly index: number, readonly code: string) {
    super(`transaction item ${index} refused: ${code}`);
  }
}

export class AuditAppendFailed extends Error {
  override readonly name = "AuditAppendFailed";
}

const MAX_ATTEMPTS = 100;
const BACKOFF_BASE_MS = 4;
const BACKOFF_CAP_MS = 200;

/** Full-jitter exponential backoff between lost races. */
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt)));

/** The newest entry's seq and hash, read consistently; undefined for an empty chain. */
export async function readHead(table: TenantTable): Promise<ChainHead | undefined> {
  const { Items = [] } = await table.client.send(new QueryCommand({
    ...auditQuery(table, keys.auditEntryPrefix),
    ProjectionExpression: "seq, #hash",
    ExpressionAttributeNames: { "#hash": "hash" },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  }));
  const item = Items[0];
  return item ? { seq: item.seq as number, hash: item.hash as string } : undefined;
}

const entryItem = (entry: AuditEntry) => ({ ...keys.auditEntry(entry.org, entry.seq), ...entry });
const NEW_ITEM = "attribute_not_exists(PK)";

/**
 * The retry loop around one append: read the head, seal the next entry, try to write it.
 * `write` returns true when the entry landed and false when another writer took the seq.
 */
async function extendChain(
  table: TenantTable,
  draft: AuditDraft,
  write: (entry: AuditEntry) => Promise<boolean>,
): Promise<AuditEntry> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const entry = sealEntry(table.org, await readHead(table), draft, new Date());
    if (entry.seq > MAX_AUDIT_SEQ) throw new AuditAppendFailed(`audit chain of ${table.org} is full`);
    if (await write(entry)) return entry;
  }
  throw new AuditAppendFailed(`audit append for ${table.org} lost ${MAX_ATTEMPTS} races in a row`);
}

/** Appends one entry on its own (for changes that cannot share a transaction with it). */
export function appendAudit(table: TenantTable, draft: AuditDraft): Promise<AuditEntry> {
  return extendChain(table, draft, async (entry) => {
    try {
      await table.client.send(new PutCommand({
        TableName: table.name,
        Item: entryItem(entry),
        ConditionExpression: NEW_ITEM,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // The SDK may have retried a put that had already landed: then the entry there is ours.
        return (error.Item?.hash as { S?: string } | undefined)?.S === entry.hash;
      }
      if (error instanceof TransactionConflictException) return false;
      throw error;
    }
  });
}

const RACE_CODES = new Set(["ConditionalCheckFailed", "TransactionConflict"]);

/**
 * Commits `items` (the audited change) and the request's audit entry in one TransactWriteItems:
 * either both land or neither does. A change item whose own condition fails raises
 * ChangeRejected (the caller maps it to its domain error); a lost race on the chain retries the
 * whole transaction against the new head.
 */
export async function transactAudited(
  table: TenantTable,
  audit: PendingAudit,
  target: AuditTarget,
  items: TransactItem[],
): Promise<AuditEntry> {
  const draft = audit.draft(target);
  const entryIndex = items.length;
  const entry = await extendChain(table, draft, async (sealed) => {
    try {
      await table.client.send(new TransactWriteCommand({
        TransactItems: [...items, { Put: { TableName: table.name, Item: entryItem(sealed), ConditionExpression: NEW_ITEM } }],
        // The entry's hash is unique per attempt: an SDK retry of a committed attempt is a no-op.
        ClientRequestToken: sealed.hash.slice(0, 36),
      }));
      return true;
    } catch (error) {
      if (error instanceof TransactionConflictException) return false;
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const rejected = reasons.findIndex((reason, index) => index !== entryIndex && reason.Code === "ConditionalCheckFailed");
      if (rejected >= 0) throw new ChangeRejected(rejected, "ConditionalCheckFailed");
      if (reasons.some((reason) => RACE_CODES.has(reason.Code ?? ""))) return false;
      throw error;
    }
  });
  audit.written(entry);
  return entry;
}

/**
 * For changes that cannot share a transaction with their entry (workflow steps, calls to other
 * services): the intent is in the chain before anything happens, and the outcome after.
 */
export async function auditedStep<T>(
  table: TenantTable,
  step: Omit<AuditDraft, "outcome">,
  act: () => Promise<T>,
): Promise<T> {
  const intent = await appendAudit(table, { ...step, outcome: { result: "started" } });
  let result: T;
  try {
    result = await act();
  } catch (error) {
    const problem = error instanceof Error ? error.name : "Error";
    // The step's own error is what its caller (a workflow's Catch) must see, even if this append fails.
    await appendAudit(table, { ...step, outcome: { result: "failed", problem, intentSeq: intent.seq } })
      .catch((appendError: Error) => logger.error("audit append failed after a failed step", { error: appendError, action: step.action }));
    throw error;
  }
  await appendAudit(table, { ...step, outcome: { result: "ok", intentSeq: intent.seq } });
  return result;
}

/** A PendingAudit for callers outside an HTTP request (jobs, workflows, tests). */
export function pendingAudit(base: Omit<AuditDraft, "target" | "outcome">, outcome: AuditDraft["outcome"] = { result: "ok" }) {
  const state: { entry?: AuditEntry } = {};
  const pending: PendingAudit & { readonly entry: AuditEntry | undefined } = {
    draft: (target) => ({ ...base, target, outcome }),
    written: (entry) => void (state.entry = entry),
    get entry() {
      return state.entry;
    },
  };
  return pending;
}
