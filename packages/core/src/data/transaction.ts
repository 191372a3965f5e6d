import { TransactionCanceledException, TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { CONDITION_FAILED, TransactionContended, TransactionRefused } from "./errors.ts";
import type { Table } from "./tables.ts";

type WriteItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/**
 * One item of a transaction, named by its role in the write ("app", "quota", "audit"…): a refusal
 * says which item failed by that name, so adding an item never shifts another's meaning.
 */
export type TransactionItem = WriteItem & { readonly name: string };

/** The one retry policy: a transaction that lost only to another in flight is retried with jitter. */
const MAX_ATTEMPTS = 9;
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 4 * 2 ** attempt)));

/**
 * The one way anything writes more than one item: every item or none, in one TransactWriteItems.
 * An item that sets `ReturnValuesOnConditionCheckFailure: "ALL_OLD"` is returned as it stood when
 * it refused (`failed(name).current`), so the refusal is explained without a second (racy) read. `token` (ClientRequestToken) makes an SDK retry of an attempt that had already
 * committed a no-op.
 */
export async function transact(table: Table, items: readonly TransactionItem[], options: { token?: string } = {}): Promise<void> {
  const names = items.map((item) => item.name);
  if (new Set(names).size !== names.length) throw new TypeError(`transaction items must have distinct names: ${names.join(", ")}`);
  const TransactItems = items.map(toWriteItem);
  for (let attempt = 1; ; attempt++) {
    try {
      await table.client.send(new TransactWriteCommand({ TransactItems, ClientRequestToken: options.token }));
      return;
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons ?? [] : [];
      if (reasons.some((reason) => reason.Code === CONDITION_FAILED)) {
        throw new TransactionRefused(new Map(reasons.flatMap((reason, i) => reason.Code && reason.Code !== "None"
          ? [[names[i]!, { code: reason.Code, current: reason.Item ? unmarshall(reason.Item as never) : undefined }] as const]
          : [])));
      }
      const conflict = error instanceof TransactionConflictException || reasons.some((reason) => reason.Code === "TransactionConflict");
      if (!conflict) throw error;
      if (attempt >= MAX_ATTEMPTS) throw new TransactionContended(`transaction of ${names.join(", ")} kept conflicting`);
      await backoff(attempt);
    }
  }
}

const toWriteItem = ({ name: _name, ...item }: TransactionItem): WriteItem => item;
