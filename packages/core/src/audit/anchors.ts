import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { encodeCursor } from "../data/cursor.ts";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { auditQuery, auditStartKey, entryOf, pendingCount, readAuditPartition, treeHeadOf, withoutKeys } from "./read.ts";
import type { CheckpointSigner } from "./signer.ts";
import { signatureValid } from "./tree-heads.ts";
import { LogVerifier, type Checkpoint, type TrustedHead, type VerifyResult } from "./verify.ts";

/**
 * The anchors stored beside an org's log: signed tree heads (one per sequenced batch) and the
 * legacy chain's signed checkpoints. Customers keep copies (`GET /v1/audit/heads`): a copy held
 * outside the table is what exposes a rewritten or truncated log even if someone with write
 * access deletes or rewrites the stored ones.
 */

/** Newest first, cursor-paginated, under `prefix` (heads or legacy checkpoints). */
async function listAnchors<T>(table: TenantTable, prefix: string, read: (item: Record<string, unknown>) => T, cursorKey: string, page: { limit: number; cursor?: string }) {
  const { Items = [], LastEvaluatedKey } = await table.client.send(new QueryCommand({
    ...auditQuery(table, prefix),
    ScanIndexForward: false,
    ExclusiveStartKey: auditStartKey(table, cursorKey, page.cursor, prefix),
    Limit: page.limit,
    ConsistentRead: true,
  }));
  return { items: Items.map(read), cursor: LastEvaluatedKey ? encodeCursor(cursorKey, table.org, LastEvaluatedKey) : undefined };
}

export const listTreeHeads = (table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) =>
  listAnchors(table, keys.auditTreeHeadPrefix, treeHeadOf, cursorKey, page);

export const listCheckpoints = (table: TenantTable, cursorKey: string, page: { limit: number; cursor?: string }) =>
  listAnchors(table, keys.auditCheckpointPrefix, (item) => withoutKeys<Checkpoint>(item), cursorKey, page);

/** A stored anchor: what is signed, where it points, and how to trust it once its signature holds. */
function anchorOf(item: Record<string, unknown>, sortKey: string, heads: TrustedHead[], checkpoints: Checkpoint[]) {
  if (sortKey.startsWith(keys.auditTreeHeadPrefix)) {
    const head = treeHeadOf(item);
    return { statement: head, size: head.treeSize, label: `tree head of size ${head.treeSize}`, trust: () => heads.push({ head, frontier: item.frontier }) };
  }
  if (sortKey.startsWith(keys.auditCheckpointPrefix)) {
    const checkpoint = withoutKeys<Checkpoint>(item);
    return { statement: checkpoint, size: checkpoint.seq, label: `checkpoint at seq ${checkpoint.seq}`, trust: () => checkpoints.push(checkpoint) };
  }
  return undefined;
}

export type LogVerification = VerifyResult & { pending: number; unverifiedAnchors: number };

/**
 * Verifies the org's whole log: every stored head and checkpoint signed by the current key must
 * be validly signed and match the log rebuilt from its entries, and every node stored on an
 * entry must be the one its content implies. An anchor signed by another (earlier) key cannot be
 * checked here and is counted instead (the offline verifier checks it with that key). Read-only.
 *
 * One consistent read of the audit partition serves it all: anchors sort before entries, so
 * every anchor is judged before the first entry is checked against them.
 */
export async function verifyAuditLog(table: TenantTable, signer: CheckpointSigner): Promise<LogVerification> {
  const [{ keyId, publicKeyPem }, pending] = await Promise.all([signer.describe(), pendingCount(table)]);
  const heads: TrustedHead[] = [];
  const checkpoints: Checkpoint[] = [];
  let unverifiedAnchors = 0;
  let log: LogVerifier | undefined;
  for await (const item of readAuditPartition(table)) {
    const sortKey = String(item.SK);
    if (sortKey.startsWith(keys.auditEntryPrefix)) {
      log ??= new LogVerifier(table.org, { heads, checkpoints });
      if (!log.push(entryOf(item), item.nodes)) break;
      continue;
    }
    if (log) throw new Error("audit partition order: an anchor after the first entry");
    const anchor = anchorOf(item, sortKey, heads, checkpoints);
    if (!anchor) continue;
    if (anchor.statement.keyId !== keyId) {
      unverifiedAnchors++;
      continue;
    }
    if (anchor.statement.org !== table.org || !signatureValid(anchor.statement, publicKeyPem)) {
      return { ok: false, entries: 0, seq: anchor.size, reason: `the stored ${anchor.label} is not validly signed`, pending, unverifiedAnchors };
    }
    anchor.trust();
  }
  return { ...(log ?? new LogVerifier(table.org, { heads, checkpoints })).finish(), pending, unverifiedAnchors };
}
