import type { KeyObject } from "node:crypto";
import { AUDIT_FORMAT_VERSION, GENESIS_HASH, hashEntry, leafOf, LEGACY_CHAIN_VERSION, type ChainHead } from "./entry.ts";
import { appendLeaves, type Frontier } from "./merkle/compact.ts";
import { EMPTY_ROOT } from "./merkle/rfc6962.ts";
import { verifyConsistency, verifyInclusion } from "./merkle/verify.ts";
import { treeHeadProblem, type Checkpoint, type SignedTreeHead } from "./tree-heads.ts";

/**
 * Verification of an org's log: its entries rebuilt into the RFC 6962 tree and checked against
 * signed tree heads, and the legacy hash chain at its start checked link by link against the
 * signed checkpoints of that chain. Pure: it runs inside `GET /v1/audit/verify` and inside the
 * offline verifier, which needs nothing but an export (and the heads a customer pinned).
 */

export type VerifyResult =
  | { ok: true; entries: number; treeSize: number; rootHash: string; headsChecked: number; checkpointsChecked: number }
  | { ok: false; entries: number; seq: number; reason: string };

/** A trusted (signature-checked) head, with the tree's right edge where the store kept it. */
export type TrustedHead = { head: SignedTreeHead; frontier?: unknown };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const sameList = (a: unknown, b: readonly string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Walks a log in seq order and stops at the first entry that does not hold. The heads and
 * checkpoints passed in must already be trusted: the log must reach each one's size and match
 * its root (or hash) there, which is what exposes a rewritten entry, a truncated tail or a
 * rewritten suffix. Stored tree nodes, when given, must be exactly those the entries imply.
 */
export class LogVerifier {
  private size = 0;
  private frontier: Frontier = [];
  private root = EMPTY_ROOT;
  private chainHead: ChainHead | undefined;
  private headsChecked = 0;
  private failure: Extract<VerifyResult, { ok: false }> | undefined;
  private readonly heads: Map<number, TrustedHead>;
  private readonly anchors: Map<number, string>;
  private readonly checkpoints: readonly Checkpoint[];

  constructor(private org: string | undefined, trusted: { heads?: readonly TrustedHead[]; checkpoints?: readonly Checkpoint[] } = {}) {
    this.heads = new Map((trusted.heads ?? []).map((h) => [h.head.treeSize, h]));
    this.anchors = new Map((trusted.checkpoints ?? []).map((c) => [c.seq, c.hash]));
    this.checkpoints = trusted.checkpoints ?? [];
  }

  private fail(seq: number, reason: string): false {
    this.failure = { ok: false, entries: this.size, seq, reason };
    return false;
  }

  /** Feeds the next entry (and, from the table, the nodes stored on it); false once the log has failed. */
  push(entry: unknown, storedNodes?: unknown): boolean {
    if (this.failure) return false;
    const expected = this.size + 1;
    if (!isRecord(entry) || !Number.isSafeInteger(entry.seq) || (entry.v !== AUDIT_FORMAT_VERSION && entry.v !== LEGACY_CHAIN_VERSION)) {
      return this.fail(expected, "malformed entry (no integer seq or known format version)");
    }
    const seq = entry.seq as number;
    if (seq > expected) return this.fail(expected, `entry ${expected} is missing (found ${seq} after ${expected - 1})`);
    if (seq < expected) return this.fail(seq, `entry ${seq} appears again or out of order after ${expected - 1}`);
    this.org ??= String(entry.org);
    if (entry.org !== this.org) return this.fail(seq, `entry belongs to org ${JSON.stringify(entry.org)}, not ${JSON.stringify(this.org)}`);
    if (entry.v === LEGACY_CHAIN_VERSION && !this.pushLegacy(seq, entry)) return false;
    if (entry.v === AUDIT_FORMAT_VERSION && (typeof entry.id !== "string" || "hash" in entry || "prevHash" in entry)) {
      return this.fail(seq, "malformed entry (a current-format entry has an id and no chain hashes)");
    }
    if (entry.v === AUDIT_FORMAT_VERSION) this.chainHead = undefined;

    const grown = appendLeaves(this.size, this.frontier, [leafOf(entry as never)]);
    if (storedNodes !== undefined && !sameList(storedNodes, grown.nodesPerLeaf[0]!)) {
      return this.fail(seq, "the tree nodes stored with this entry do not match the log (altered)");
    }
    this.size = grown.size;
    this.frontier = grown.frontier;
    this.root = grown.root;
    const trusted = this.heads.get(this.size);
    if (trusted) {
      if (trusted.head.rootHash !== this.root) return this.fail(seq, `the tree of size ${this.size} does not have the root its signed head names (an entry up to here was altered)`);
      if (trusted.frontier !== undefined && !sameList(trusted.frontier, this.frontier)) {
        return this.fail(seq, `the right edge stored with the head of size ${this.size} does not match the log (altered)`);
      }
      this.headsChecked++;
    }
    return true;
  }

  /** A legacy entry: its own hash, its link to the previous one, the checkpoint at its seq. Legacy entries only start a log. */
  private pushLegacy(seq: number, entry: Record<string, unknown>): boolean {
    if (seq > 1 && !this.chainHead) return this.fail(seq, "a legacy chain entry after the log's current format began");
    if (typeof entry.hash !== "string" || hashEntry(entry) !== entry.hash) return this.fail(seq, "hash does not match the entry's content (altered)");
    if (entry.prevHash !== (this.chainHead?.hash ?? GENESIS_HASH)) {
      return this.fail(seq, seq === 1 ? "first entry does not start from the genesis hash" : `prevHash does not match the hash of entry ${seq - 1}`);
    }
    const anchored = this.anchors.get(seq);
    if (anchored !== undefined && anchored !== entry.hash) return this.fail(seq, `entry differs from the signed checkpoint at seq ${seq}`);
    this.chainHead = { seq, hash: entry.hash };
    return true;
  }

  finish(): VerifyResult {
    if (this.failure) return this.failure;
    const beyond = (size: number) => ({
      ok: false as const, entries: this.size, seq: this.size + 1,
      reason: `the log ends at seq ${this.size} but a signed anchor covers ${size} entries (entries missing or truncated)`,
    });
    for (const { head } of this.heads.values()) {
      if (this.org !== undefined && head.org !== this.org) return { ok: false, entries: this.size, seq: head.treeSize, reason: `a signed head is for org ${JSON.stringify(head.org)}` };
      if (head.treeSize > this.size) return beyond(head.treeSize);
    }
    for (const checkpoint of this.checkpoints) {
      if (this.org !== undefined && checkpoint.org !== this.org) return { ok: false, entries: this.size, seq: checkpoint.seq, reason: `a checkpoint is for org ${JSON.stringify(checkpoint.org)}` };
      if (checkpoint.seq > this.size) return beyond(checkpoint.seq);
    }
    return { ok: true, entries: this.size, treeSize: this.size, rootHash: this.root, headsChecked: this.headsChecked, checkpointsChecked: this.checkpoints.length };
  }
}

/** Where a proof check failed, and why: the verifier prints `FAILED at <where>: <why>`. */
export type ProofFailure = { at: string; reason: string };

/**
 * Checks an answer of `GET /v1/audit/proof/inclusion` against a signed head the customer holds:
 * the head's signature, that the proof is for that head's size, and the audit path from the
 * entry's own leaf hash (recomputed, never taken from the answer) to the head's root.
 */
export function checkInclusionProof(proof: any, head: unknown, publicKey: KeyObject | string): ProofFailure | undefined {
  const headProblem = treeHeadProblem(head, publicKey);
  if (headProblem) return { at: "the signed head", reason: headProblem };
  const { treeSize, rootHash, org } = head as SignedTreeHead;
  const entry = proof?.entry;
  if (!isRecord(entry) || !Number.isSafeInteger(entry.seq) || !Array.isArray(proof.auditPath)) return { at: "the proof", reason: "malformed inclusion proof" };
  const at = `seq ${entry.seq}`;
  if (entry.org !== org) return { at, reason: `the entry is for org ${JSON.stringify(entry.org)}, the head for ${JSON.stringify(org)}` };
  if (proof.treeSize !== treeSize) return { at, reason: `the proof is for a tree of ${proof.treeSize} entries, the head for ${treeSize}` };
  if (!verifyInclusion((entry.seq as number) - 1, treeSize, leafOf(entry as never), proof.auditPath, rootHash)) {
    return { at, reason: `the entry is not in the signed tree of ${treeSize} entries (entry or audit path altered)` };
  }
  return undefined;
}

/** Checks an answer of `GET /v1/audit/proof/consistency` between two signed heads the customer pinned. */
export function checkConsistencyProof(proof: any, from: unknown, to: unknown, publicKey: KeyObject | string): ProofFailure | undefined {
  for (const [name, head] of [["older", from], ["newer", to]] as const) {
    const problem = treeHeadProblem(head, publicKey);
    if (problem) return { at: `the ${name} signed head`, reason: problem };
  }
  const older = from as SignedTreeHead;
  const newer = to as SignedTreeHead;
  const at = `tree size ${newer.treeSize}`;
  if (older.org !== newer.org) return { at, reason: "the two heads are of different orgs" };
  if (!Array.isArray(proof?.proof) || proof.from !== older.treeSize || proof.to !== newer.treeSize) {
    return { at, reason: `the proof is not between tree sizes ${older.treeSize} and ${newer.treeSize}` };
  }
  if (!verifyConsistency(older.treeSize, newer.treeSize, older.rootHash, newer.rootHash, proof.proof)) {
    return { at, reason: `the tree of ${newer.treeSize} entries does not extend the signed tree of ${older.treeSize} (the log was rewritten, or the proof altered)` };
  }
  return undefined;
}
