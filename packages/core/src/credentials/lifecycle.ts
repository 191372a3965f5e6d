import { randomUUID } from "node:crypto";
import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { appPartition, keys as tableKeys, type ItemKey } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import type { KekRef, KeyStore } from "./key-store.ts";

/**
 * An app's credential store from birth to crypto-shredding. Creation provisions the KEK before
 * the app item exists, so a failure leaves no half-made app; deletion destroys the KEK before
 * the credential items, so whatever a crash leaves behind can no longer be decrypted.
 */
export async function provisionCredentialStore(keys: KeyStore, ref: KekRef): Promise<void> {
  const kek = await keys.create(ref, randomUUID());
  logger.info("credential store provisioned", { app: ref.app, kekVersion: kek.version, keyStore: keys.kind });
}

/** Undoes a provision whose app was never written. The store wrapped nothing, so no recovery window. */
export async function discardCredentialStore(keys: KeyStore, ref: KekRef): Promise<void> {
  try {
    await keys.destroy(ref, { unused: true });
  } catch (error) {
    // Holds no data: an orphan costs money, not secrecy. Logged so it can be swept by its tags.
    logger.error("could not discard an unused credential store", { app: ref.app, error: error as Error });
  }
}

/** Destroys the KEK (crypto-shred), then removes every credential item of the app. */
export async function shredCredentialStore(table: TenantTable, keys: KeyStore, appId: string): Promise<number> {
  await keys.destroy({ org: table.org, app: appId });
  logger.info("credential store destroyed", { app: appId, keyStore: keys.kind });
  let removed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      ExpressionAttributeValues: { ":pk": appPartition(table.org, appId), ":prefix": tableKeys.credentialPrefix },
      ProjectionExpression: "PK, SK",
      ExclusiveStartKey: start,
    }));
    const itemKeys = (page.Items ?? []) as ItemKey[];
    for (let i = 0; i < itemKeys.length; i += 25) await deleteBatch(table, itemKeys.slice(i, i + 25));
    removed += itemKeys.length;
    start = page.LastEvaluatedKey;
  } while (start);
  logger.info("credential items removed", { app: appId, count: removed });
  return removed;
}

async function deleteBatch(table: TenantTable, batch: ItemKey[]): Promise<void> {
  let requests: Record<string, unknown>[] = batch.map((Key) => ({ DeleteRequest: { Key } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 8) throw new Error("credential items could not be removed (throttled)");
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    const reply = await table.client.send(new BatchWriteCommand({ RequestItems: { [table.name]: requests } }));
    requests = (reply.UnprocessedItems?.[table.name] ?? []) as Record<string, unknown>[];
  }
}
