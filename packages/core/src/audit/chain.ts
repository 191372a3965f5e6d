import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { monotonicFactory } from "ulid";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionContended, TransactionRefused } from "../data/errors.ts";
import { transact, type TransactionItem } from "../data/transaction.ts";
import { logger } from "../log.ts";
import { auditRecord, type AuditDraft, type AuditRecord, type AuditTarget } from "./entry.ts";

/**
 * Writing to an org's audit log. A writer commits an unsequenced record, keyed by a fresh ULID
 * in the org's record partition, in the same transaction as the change it records: nothing
 * changes without its record and nothing is recorded that did not change. The record touches
 * no item another writer touches, so writers of one org never conflict or queue on each other.
 * The sequencer (sequencer.ts) later gives records their seq and places them in the tree.
 */

/** What a service needs to commit a change's audit record inside the change's own transaction. */
export interface PendingAudit {
  /** The record's content for this change; `change` is what was written, from which the route's `records` names the fields. */
  draft(change: object): AuditDraft;
  /**
   * Called once the record's transaction has answered: "committed" with the change, or "in doubt"
   * (it failed in a way that does not say whether it landed, such as a timeout). Either way no
   * other record may be written for this request. A refused transaction wrote nothing: not called.
   */
  settled(record: AuditRecord, outcome: "committed" | "in doubt"): void;
}

const nextId = monotonicFactory();

const newRecord = (org: string, draft: AuditDraft): AuditRecord => auditRecord(org, nextId(), draft, new Date());
const recordItem = (record: AuditRecord) => ({ ...keys.auditRecord(record.org, record.id), ...record });

/** Appends one record on its own: for requests that changed nothing (refusals, audited reads) and workflow steps. */
export async function appendAudit(table: TenantTable, draft: AuditDraft): Promise<AuditRecord> {
  const record = newRecord(table.org, draft);
  // The SDK may retry a put that had already landed; the record is then there, which is the goal.
  await table.client.send(new PutCommand({ TableName: table.name, Item: recordItem(record) }));
  return record;
}

/**
 * Commits `items` (the change) and its audit record in one transaction: both land or neither does.
 * `table` reaches `table.org`'s record partition: the tenant handle, or orgRegistryTable for org changes.
 * A refusal of the change's own items is TransactionRefused, naming the item. The record's id is
 * the transaction's token, so an SDK retry of a committed attempt is a no-op.
 */
export async function commitAudited(table: TenantTable, audit: PendingAudit, change: object, items: readonly TransactionItem[]): Promise<AuditRecord> {
  const record = newRecord(table.org, audit.draft(change));
  // A ULID is never reused, so this condition only refuses a replay of the same record.
  const recordPut: TransactionItem = { name: "audit", Put: { TableName: table.name, Item: recordItem(record), ConditionExpression: "attribute_not_exists(PK)" } };
  try {
    await transact(table, [...items, recordPut], { token: record.id });
  } catch (error) {
    if (!(error instanceof TransactionRefused || error instanceof TransactionContended)) audit.settled(record, "in doubt");
    throw error;
  }
  audit.settled(record, "committed");
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

/**
 * A PendingAudit for callers outside an HTTP request (jobs, workflows, tests). `records` names the
 * target's fields from the change, as a route's `records` does; by default the change is the target.
 */
export function pendingAudit(
  base: Omit<AuditDraft, "target" | "outcome">,
  outcome: AuditDraft["outcome"] = { result: "ok" },
  records: (change: any) => AuditTarget = (change) => change,
) {
  const state: { record?: AuditRecord } = {};
  const pending: PendingAudit & { readonly record: AuditRecord | undefined } = {
    draft: (change) => ({ ...base, target: records(change), outcome }),
    settled: (record) => void (state.record = record),
    get record() {
      return state.record;
    },
  };
  return pending;
}
