import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { decodeCursor, encodeCursor } from "../data/cursor.ts";
import { auditPartition, keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { problems } from "../problem.ts";
import type { ChainHead } from "./entry.ts";
import { readChain } from "./read.ts";
import type { CheckpointSigner } from "./signer.ts";
import { checkpointPayload, checkpointSignatureValid, verifyChain, type Checkpoint, type VerifyResult } from "./verify.ts";

/**
 * Signed checkpoints of an org's chain head, stored beside the chain. Who makes them: every
 * successful `GET /v1/audit/verify` signs the head it verified (when it is past the newest
 * checkpoint), and a scheduled job may call checkpointHead for each org. Customers keep copies
 * (`GET /v1/audit/checkpoints`): a copy held outside the table is what exposes a rewritten or
 * truncated chain even if someone with write access deletes the stored ones.
 */

const checkpointOf = (item: Record<string, unknown>): Checkpoint => {
  const { PK: _pk, SK: _sk, ...checkpoint } = item;
  return checkpoint as Checkpoint;
};

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
    return Item ? checkpointOf(Item) : checkpoint;
  }
}

async function allCheckpoints(table: TenantTable): Promise<Checkpoint[]> {
  const all: Checkpoint[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
      ExpressionAttributeValues: { ":pk": auditPartition(table.org), ":prefix": keys.auditCheckpointPrefix },
      ExclusiveStartKey: start,
      ConsistentRead: true,
    }));
    all.push(...Items.map(checkpointOf));
    start = LastEvaluatedKey;
  } while (start);
  return all;
}

/** Newest first, cursor-paginated. Without a cursor key (internal use) no cursor is returned. */
export async function listCheckpoints(table: TenantTable, cursorKey: string | undefined, page: { limit: number; cursor?: string }) {
  let start: Record<string, unknown> | undefined;
  if (page.cursor && cursorKey) {
    start = decodeCursor(cursorKey, table.org, page.cursor);
    if (start.PK !== auditPartition(table.org) || !String(start.SK).startsWith(keys.auditCheckpointPrefix)) throw problems.invalidCursor();
  }
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": auditPartition(table.org), ":prefix": keys.auditCheckpointPrefix },
    ScanIndexForward: false,
    ExclusiveStartKey: start,
    Limit: page.limit,
    ConsistentRead: true,
  }));
  return {
    items: Items.map(checkpointOf),
    cursor: LastEvaluatedKey && cursorKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined,
  };
}

export type ChainVerification = VerifyResult & { checkpoint?: Checkpoint; unverifiedCheckpoints: number };

/**
 * Verifies the org's whole chain against every stored checkpoint signed by the current key, then
 * checkpoints the verified head. A stored checkpoint whose signature fails is tampering and fails
 * the verification; one signed by another key (an earlier key) cannot be checked here and is
 * counted instead (the offline verifier checks it with that key's public key).
 */
export async function verifyAuditChain(table: TenantTable, signer: CheckpointSigner): Promise<ChainVerification> {
  const { keyId, publicKeyPem } = await signer.describe();
  const stored = await allCheckpoints(table);
  const trusted: Checkpoint[] = [];
  let unverifiedCheckpoints = 0;
  for (const checkpoint of stored) {
    if (checkpoint.keyId !== keyId) {
      unverifiedCheckpoints++;
      continue;
    }
    if (checkpoint.org !== table.org || !checkpointSignatureValid(checkpoint, publicKeyPem)) {
      return { ok: false, entries: 0, seq: checkpoint.seq, reason: `the stored checkpoint at seq ${checkpoint.seq} is not validly signed`, unverifiedCheckpoints };
    }
    trusted.push(checkpoint);
  }
  const result = await verifyChain(readChain(table), { org: table.org, checkpoints: trusted });
  if (!result.ok || !result.head) return { ...result, unverifiedCheckpoints };
  const newest = trusted.at(-1);
  const checkpoint = newest && newest.seq >= result.head.seq ? newest : await checkpointHead(table, signer, result.head);
  return { ...result, checkpoint, unverifiedCheckpoints };
}
