import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { problems } from "../problem.ts";
import type { Table } from "./tables.ts";

export type WriteEntry = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** Why one entry of a cancelled transaction failed, with the item as it stood then (if any). */
export type Cancellation = { code: string; item?: Record<string, any> };

/** A transaction whose conditions did not all hold: nothing was written. */
export class TransactionRefused extends Error {
  override readonly name = "TransactionRefused";
  constructor(readonly reasons: readonly Cancellation[]) {
    super(`transaction refused: ${reasons.map((reason) => reason.code).join(", ")}`);
  }

  /** The entry at `index` failed its condition; returns the item as it stood (undefined if absent). */
  conditionFailed(index: number): { item?: Record<string, any> } | undefined {
    const reason = this.reasons[index];
    return reason?.code === "ConditionalCheckFailed" ? { item: reason.item } : undefined;
  }
}

const MAX_ATTEMPTS = 5;

/**
 * Writes every entry or none, in one TransactWriteItems call: the one write path of targets,
 * grants and enrollment, so an audit entry can join the same transaction. Each conditional entry
 * returns the item it failed on, so a refusal is explained without a second (racy) read.
 * DynamoDB cancels a transaction that collides with another in flight on the same item
 * (TransactionConflict); those are retried with jitter, after which the conditions decide.
 */
export async function writeAtomically(table: Table, entries: readonly WriteEntry[]): Promise<void> {
  const TransactItems = entries.map(withReturnedItem);
  for (let attempt = 1; ; attempt++) {
    try {
      await table.client.send(new TransactWriteCommand({ TransactItems }));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = (error.CancellationReasons ?? []).map((reason) => ({
        code: reason.Code ?? "Unknown",
        item: reason.Item ? unmarshall(reason.Item as never) : undefined,
      }));
      const conflictOnly = reasons.some((r) => r.code === "TransactionConflict") && !reasons.some((r) => r.code === "ConditionalCheckFailed");
      if (!conflictOnly) throw new TransactionRefused(reasons);
      if (attempt >= MAX_ATTEMPTS) throw problems.conflict("Another change to the same resource is in progress; try again.");
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
    }
  }
}

function withReturnedItem(entry: WriteEntry): WriteEntry {
  const [kind, operation] = Object.entries(entry)[0] as [keyof WriteEntry, Record<string, unknown>];
  if (!operation?.ConditionExpression) return entry;
  return { [kind]: { ...operation, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } } as WriteEntry;
}
