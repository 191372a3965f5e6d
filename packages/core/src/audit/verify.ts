import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { canonicalJson, GENESIS_HASH, hashEntry, type ChainHead } from "./entry.ts";

/**
 * Verification of an org's chain and of signed checkpoints of its head. Pure: it runs inside
 * `GET /v1/audit/verify` and inside the offline verifier, which needs nothing but an export.
 */

export type CheckpointAlgorithm = "Ed25519" | "ECDSA_SHA_256";

/** A signed statement "org's chain had `hash` at `seq`": the anchor the writer cannot alter. */
export type Checkpoint = {
  v: 1;
  org: string;
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  algorithm: CheckpointAlgorithm;
  /** base64 of the signature over checkpointPayload(checkpoint). */
  signature: string;
};

export type VerifyResult =
  /** `checkpointsChecked`: the trusted checkpoints the chain was found consistent with. */
  | { ok: true; entries: number; head: ChainHead | null; checkpointsChecked: number }
  | { ok: false; entries: number; seq: number; reason: string };

/** The bytes a checkpoint's signature covers: canonical JSON of every field but the signature. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, "signature"> | Checkpoint): Buffer {
  const { signature: _ignored, ...signed } = checkpoint as Checkpoint;
  return Buffer.from(canonicalJson(signed), "utf8");
}

/** True when the checkpoint was signed by `publicKey` with the algorithm it names. */
export function checkpointSignatureValid(checkpoint: Checkpoint, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const signature = Buffer.from(String(checkpoint.signature), "base64");
  const payload = checkpointPayload(checkpoint);
  switch (checkpoint.algorithm) {
    case "Ed25519":
      return key.asymmetricKeyType === "ed25519" && verifySignature(null, payload, key, signature);
    case "ECDSA_SHA_256":
      return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1"
        && verifySignature("sha256", payload, { key, dsaEncoding: "der" }, signature);
    default:
      return false;
  }
}

const HASH = /^[0-9a-f]{64}$/;
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Walks a chain in seq order and stops at the first entry that does not hold. Checkpoints passed
 * in must already be trusted (their signatures checked): the chain must reach each one's seq and
 * carry its hash there, which is what exposes a truncated tail or a rewritten suffix.
 */
export class ChainVerifier {
  private count = 0;
  private head: ChainHead | undefined;
  private failure: Extract<VerifyResult, { ok: false }> | undefined;
  private readonly anchors: Map<number, string>;

  constructor(private org: string | undefined, private readonly checkpoints: readonly Checkpoint[] = []) {
    this.anchors = new Map(checkpoints.map((c) => [c.seq, c.hash]));
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Feeds the next entry; returns false once the chain has failed (later entries are moot). */
  push(entry: unknown): boolean {
    if (this.failure) return false;
    const expected = (this.head?.seq ?? 0) + 1;
    const fail = (seq: number, reason: string) => {
      this.failure = { ok: false, entries: this.count, seq, reason };
      return false;
    };
    if (!isRecord(entry) || !Number.isSafeInteger(entry.seq) || typeof entry.hash !== "string" || typeof entry.prevHash !== "string") {
      return fail(expected, "malformed entry (no integer seq, hash or prevHash)");
    }
    const seq = entry.seq as number;
    if (seq > expected) return fail(expected, `entry ${expected} is missing (found ${seq} after ${expected - 1})`);
    if (seq < expected) return fail(seq, `entry ${seq} appears again or out of order after ${expected - 1}`);
    this.org ??= String(entry.org);
    if (entry.org !== this.org) return fail(seq, `entry belongs to org ${JSON.stringify(entry.org)}, not ${JSON.stringify(this.org)}`);
    if (!HASH.test(entry.hash) || hashEntry(entry) !== entry.hash) return fail(seq, "hash does not match the entry's content (altered)");
    const prevHash = this.head?.hash ?? GENESIS_HASH;
    if (entry.prevHash !== prevHash) {
      return fail(seq, seq === 1 ? "first entry does not start from the genesis hash" : `prevHash does not match the hash of entry ${seq - 1}`);
    }
    const anchored = this.anchors.get(seq);
    if (anchored !== undefined && anchored !== entry.hash) return fail(seq, `entry differs from the signed checkpoint at seq ${seq}`);
    this.count++;
    this.head = { seq, hash: entry.hash };
    return true;
  }

  finish(): VerifyResult {
    if (this.failure) return this.failure;
    const lastSeq = this.head?.seq ?? 0;
    for (const checkpoint of this.checkpoints) {
      if (this.org !== undefined && checkpoint.org !== this.org) {
        return { ok: false, entries: this.count, seq: checkpoint.seq, reason: `checkpoint is for org ${JSON.stringify(checkpoint.org)}` };
      }
      if (checkpoint.seq > lastSeq) {
        return {
          ok: false,
          entries: this.count,
          seq: lastSeq + 1,
          reason: `chain ends at seq ${lastSeq} but a signed checkpoint covers seq ${checkpoint.seq} (entries missing or truncated)`,
        };
      }
    }
    return { ok: true, entries: this.count, head: this.head ?? null, checkpointsChecked: this.checkpoints.length };
  }
}

export async function verifyChain(
  entries: Iterable<unknown> | AsyncIterable<unknown>,
  options: { org?: string; checkpoints?: readonly Checkpoint[] } = {},
): Promise<VerifyResult> {
  const verifier = new ChainVerifier(options.org, options.checkpoints);
  for await (const entry of entries) {
    if (!verifier.push(entry)) break;
  }
  return verifier.finish();
}
