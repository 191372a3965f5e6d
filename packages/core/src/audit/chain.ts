import { TransactionCanceledException, TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { PutCommand, TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import { auditRecord, type AuditDraft, type AuditRecord, type AuditTarget } from "./entry.ts";

/**
 * Writing to an org's audit log. A writer commits an unsequenced record, keyed by a fresh ULID
 * in the org's record partition, in the same transaction as the change it records: nothing
 * changes without its record and nothing is recorded that did not change. The record touches
 * no item another writer touches, so writers of one org never conflict or queue on each other.
 * The sequencer (sequencer.ts) later gives records their seq and places them in the tree.
 */

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** What a service needs to commit a request's audit record inside its own transaction. */
export interface PendingAudit {
  /** The record's content for this request's success, naming what it acted on. */
  draft(target: AuditTarget): AuditDraft;
  /** Called once the record is committed, so the request's record is not written twice. */
  written(record: AuditRecord): void;
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

const nextId = monotonicFactory();

const newRecord = (table: TenantTable, draft: AuditDraft): AuditRecord => auditRecord(table.org, nextId(), draft, new Date());
const recordItem = (record: AuditRecord) => ({ ...keys.auditRecord(record.org, record.id), ...record });
/** A ULID is never reused, so this condition only refuses a replay of the same record. */
const NEW_ITEM = "attribute_not_exists(PK)";

/** Appends one record on its own (for changes that cannot share a transaction with it). */
export async function appendAudit(table: TenantTable, draft: AuditDraft): Promise<AuditRecord> {
  const record = newRecord(table, draft);
  // The SDK may retry a put that had already landed; the record is then there, which is the goal.
  await table.client.send(new PutCommand({ TableName: table.name, Item: recordItem(record) }));
  return record;
}

/** A transaction collided with another in flight on one of the change's items: retried with jitter. */
const MAX_CONFLICT_RETRIES = 8;
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 4 * 2 ** attempt)));

/**
 * Commits `items` (the audited change) and the request's audit record in one TransactWriteItems:
 * either both land or neither does. A change item whose own condition fails raises
 * ChangeRejected (the caller maps it to its domain error).
 */
export async function transactAudited(
  table: TenantTable,
  audit: PendingAudit,
  target: AuditTarget,
  items: TransactItem[],
): Promise<AuditRecord> {
  const record = newRecord(table, audit.draft(target));
  const TransactItems = [...items, { Put: { TableName: table.name, Item: recordItem(record), ConditionExpression: NEW_ITEM } }];
  for (let attempt = 0; ; attempt++) {
    try {
      // The record's id is unique: an SDK retry of a committed attempt is a no-op.
      await table.client.send(new TransactWriteCommand({ TransactItems, ClientRequestToken: record.id }));
      break;
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons ?? [] : [];
      const rejected = reasons.findIndex((reason) => reason.Code === "ConditionalCheckFailed");
      if (rejected >= 0 && rejected < items.length) throw new ChangeRejected(rejected, "ConditionalCheckFailed");
      const conflict = error instanceof TransactionConflictException || reasons.some((reason) => reason.Code === "TransactionConflict");
      if (!conflict || attempt >= MAX_CONFLICT_RETRIES) throw error;
      await backoff(attempt);
    }
  }
  audit.written(record);
  return record;
}

/**
 * For changes that cannot share a transaction with their record (workflow steps, calls to other
 * services): the intent is recorded before anything happens, and the outcome after, naming it.
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
    await appendAudit(table, { ...step, outcome: { result: "failed", problem, intentId: intent.id } })
      .catch((appendError: Error) => logger.error("audit append failed after a failed step", { error: appendError, action: step.action }));
    throw error;
  }
  await appendAudit(table, { ...step, outcome: { result: "ok", intentId: intent.id } });
  return result;
}

/** A PendingAudit for callers outside an HTTP request (jobs, workflows, tests). */
export function pendingAudit(base: Omit<AuditDraft, "target" | "outcome">, outcome: AuditDraft["outcome"] = { result: "ok" }) {
  const state: { record?: AuditRecord } = {};
  const pending: PendingAudit & { readonly record: AuditRecord | undefined } = {
    draft: (target) => ({ ...base, target, outcome }),
    written: (record) => void (state.record = record),
    get record() {
      return state.record;
    },
  };
  return pending;
}
