import type { TenantTable } from "../data/tables.ts";
import { StoredAnchors } from "./anchors.ts";
import { pendingCount, readStoredLog } from "./read.ts";
import type { CheckpointSigner } from "./signer.ts";
import { LogVerifier, type VerifyResult } from "./verify.ts";

export type LogVerification = VerifyResult & { pending: number; unverifiedAnchors: number };

/**
 * Verifies the org's whole log as the table holds it (`GET /v1/audit/verify`): every stored
 * anchor signed by the current key must be validly signed and match the log rebuilt from its
 * entries, and every node stored on an entry must be the one its content implies. Read-only.
 *
 * One consistent read of the audit partition serves it all: anchors sort before entries, so
 * every anchor is judged before the first entry is checked against them.
 */
export async function verifyAuditLog(table: TenantTable, signer: CheckpointSigner): Promise<LogVerification> {
  const [key, pending] = await Promise.all([signer.describe(), pendingCount(table)]);
  const anchors = new StoredAnchors(table.org, key);
  let log: LogVerifier | undefined;
  for await (const stored of readStoredLog(table)) {
    if (stored.kind === "entry") {
      log ??= new LogVerifier(table.org, anchors);
      if (!log.push(stored.entry, stored.nodes)) break;
      continue;
    }
    if (log) throw new Error("audit partition order: an anchor after the first entry");
    const failure = anchors.admit(stored);
    if (failure) return { ...failure, pending, unverifiedAnchors: anchors.unverified };
  }
  return { ...(log ?? new LogVerifier(table.org, anchors)).finish(), pending, unverifiedAnchors: anchors.unverified };
}
