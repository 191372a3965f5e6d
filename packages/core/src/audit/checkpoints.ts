import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { encodeCursor } from "../data/cursor.ts";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { ChainHead } from "./entry.ts";
import { auditQuery, auditStartKey, readAuditPartition, withoutKeys } from "./read.ts";
import type { CheckpointSigner } from "./signer.ts";
import { ChainVerifier, checkpointPayload, checkpointSignatureValid, type Checkpoint, type VerifyResult } from "./verify.ts";

/**
 * Signed checkpoints of an org's chain head, stored beside the chain. Who makes them: every
 * successful `GET /v1/audit/verify` signs the head it verified (when it is past the newest
 * checkpoint), and a scheduled job may run verifyAuditChain for each org. Customers keep copies
 * (`GET /v1/audit/checkpoints`): a copy held outside the table is what exposes a rewritten or
 * truncated chain even if someone with write access deletes the stored ones.
 */

/** Signs `head` and stores it; if that seq is already checkpointed, returns the stored one. */
export async function checkpointHead(table: TenantTable, signer: CheckpointSigner, head: ChainHead, now = new Date()): Promise<Checkpoint> {
  const { keyId } = await signer.describe();
  const unsigned = { v: 1 as const, org: table.org, seq: head.seq, hash: head.hash, time: now.toISOString(), keyId, algorithm: signer.algorithm };
  const checkpoint: Checkpoint = { ...unsigned, signature: (await signer.sign(checkpointPayload(unsigned))).toString("base64") };
  try {
    await table.client.send(new PutCommand({
      TableName: table.name,
      Item: { ...keys.auditCheckpoint(table.org, head.seq), ...checkpoint },
      ConditionExpression: "attribute_not_exists(PK)",
    }));
    return checkpoint;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // A concurrent verify checkpointed the same head first: its checkpoint stands.
    const { Item } = await table.client.send(new GetCommand({
      TableName: table.name,
      Key: keys.auditCheckpoint(table.org, head.seq),
      ConsistentRead: true,
    }));
    return Item ? withoutKeys<Checkpoint>(Item) : checkpoint;
  }
}

/** Newest first, cursor-paginated. */
export async function listCheckpoints(table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    ...auditQuery(table, keys.auditCheckpointPrefix),
    ScanIndexForward: false,
    ExclusiveStartKey: auditStartKey(table, cursorKey, page.cursor, keys.auditCheckpointPrefix),
    Limit: page.limit,
    ConsistentRead: true,
  }));
  return {
    items: Items.map((item) => withoutKeys<Checkpoint>(item)),
    cursor: LastEvaluatedKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined,
  };
}

export type ChainVerification = VerifyResult & { checkpoint?: Checkpoint; unverifiedCheckpoints: number };

/**
 * Verifies the org's whole chain against every stored checkpoint signed by the current key, then
 * checkpoints the verified head. A stored checkpoint whose signature fails is tampering and fails
 * the verification; one signed by another key (an earlier key) cannot be checked here and is
 * counted instead (the offline verifier checks it with that key's public key).
 *
 * One consistent read of the audit partition serves both: its checkpoints sort before its entries,
 * so every checkpoint is judged before the first entry is checked against them.
 */
export async function verifyAuditChain(table: TenantTable, signer: CheckpointSigner): Promise<ChainVerification> {
  const { keyId, publicKeyPem } = await signer.describe();
  const trusted: Checkpoint[] = [];
  let unverifiedCheckpoints = 0;
  let chain: ChainVerifier | undefined;
  for await (const item of readAuditPartition(table)) {
    const sortKey = String(item.SK);
    if (sortKey.startsWith(keys.auditCheckpointPrefix)) {
      if (chain) throw new Error("audit partition order: a checkpoint after the first entry");
      const checkpoint = withoutKeys<Checkpoint>(item);
      if (checkpoint.keyId !== keyId) {
        unverifiedCheckpoints++;
        continue;
      }
      if (checkpoint.org !== table.org || !checkpointSignatureValid(checkpoint, publicKeyPem)) {
        return { ok: false, entries: 0, seq: checkpoint.seq, reason: `the stored checkpoint at seq ${checkpoint.seq} is not validly signed`, unverifiedCheckpoints };
      }
      trusted.push(checkpoint);
    } else if (sortKey.startsWith(keys.auditEntryPrefix)) {
      chain ??= new ChainVerifier(table.org, trusted);
      if (!chain.push(withoutKeys(item))) break;
    }
  }
  const result = (chain ?? new ChainVerifier(table.org, trusted)).finish();
  if (!result.ok || !result.head) return { ...result, unverifiedCheckpoints };
  const newest = trusted.at(-1);
  const checkpoint = newest && newest.seq >= result.head.seq ? newest : await checkpointHead(table, signer, result.head);
  return { ...result, checkpoint, unverifiedCheckpoints };
}
