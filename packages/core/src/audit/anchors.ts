import { signatureValid, type Checkpoint, type SignedTreeHead } from "./tree-heads.ts";
import type { TrustedHead, VerifyResult } from "./verify.ts";

/**
 * The anchors stored beside an org's log: signed tree heads (one per sequenced batch) and the
 * legacy chain's signed checkpoints. Customers keep copies (`GET /v1/audit/heads`): a copy held
 * outside the table is what exposes a rewritten or truncated log even if someone with write
 * access deletes or rewrites the stored ones.
 */
export type StoredAnchor =
  | { kind: "head"; head: SignedTreeHead; frontier: unknown }
  | { kind: "checkpoint"; checkpoint: Checkpoint };

/**
 * Which stored anchors a check of the stored log may hold it to. One signed by the current key
 * must be validly signed, and is then trusted: the log must match it. One signed by another
 * (earlier) key cannot be checked here and is counted instead (the offline verifier checks it
 * with that key).
 */
export class StoredAnchors {
  readonly heads: TrustedHead[] = [];
  readonly checkpoints: Checkpoint[] = [];
  unverified = 0;

  constructor(private readonly org: string, private readonly key: { keyId: string; publicKeyPem: string }) {}

  /** Takes the next stored anchor; the failure when it names the current key but is not validly signed by it. */
  admit(anchor: StoredAnchor): Extract<VerifyResult, { ok: false }> | undefined {
    const statement = anchor.kind === "head" ? anchor.head : anchor.checkpoint;
    if (statement.keyId !== this.key.keyId) {
      this.unverified++;
      return undefined;
    }
    if (statement.org !== this.org || !signatureValid(statement, this.key.publicKeyPem)) {
      const [seq, label] = anchor.kind === "head"
        ? [anchor.head.treeSize, `tree head of size ${anchor.head.treeSize}`]
        : [anchor.checkpoint.seq, `checkpoint at seq ${anchor.checkpoint.seq}`];
      return { ok: false, entries: 0, seq, reason: `the stored ${label} is not validly signed` };
    }
    if (anchor.kind === "head") this.heads.push({ head: anchor.head, frontier: anchor.frontier });
    else this.checkpoints.push(anchor.checkpoint);
    return undefined;
  }
}
