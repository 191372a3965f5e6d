import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { conflict } from "../errors.ts";
import { idempotencyKeyReused } from "./errors.ts";

/** Idempotency entries live a day, like the keys of most payment APIs. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** SHA-256 of the caller's Idempotency-Key and of the request it came with. */
export type Idempotency = { keyHash: string; requestHash: string };

/**
 * The Idempotency-Key's entry ("idempotency"), written in the transaction that creates the
 * deployment: of two requests with one key, only one creates a deployment.
 */
export function idempotencyEntry(table: TenantTable, appId: string, deploymentId: string, idempotency: Idempotency, now: Date): TransactionItem {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return {
    name: "idempotency",
    Put: {
      TableName: table.name,
      Item: {
        ...keys.deploymentIdempotency(table.org, appId, idempotency.keyHash),
        type: "idempotency",
        deploymentId,
        requestHash: idempotency.requestHash,
        expiresAt: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
      },
      // TTL deletes lazily: an expired entry is treated as absent.
      ConditionExpression: "attribute_not_exists(PK) OR expiresAt < :now",
      ExpressionAttributeValues: { ":now": nowSeconds },
    },
  };
}

/** The deployment a key's entry names, when the same request is replayed; a different request under the key is refused. */
export async function replayedDeploymentId(table: TenantTable, appId: string, { keyHash, requestHash }: Idempotency): Promise<string> {
  const { Item: entry } = await table.client.send(new GetCommand({
    TableName: table.name,
    Key: keys.deploymentIdempotency(table.org, appId, keyHash),
    ConsistentRead: true,
  }));
  if (!entry) throw conflict("A request with this Idempotency-Key is in flight; retry it.");
  if (entry.requestHash !== requestHash) throw idempotencyKeyReused();
  return entry.deploymentId;
}
