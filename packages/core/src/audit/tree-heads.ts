import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { canonicalJson } from "./entry.ts";
import type { CheckpointSigner, SignatureAlgorithm } from "./signer.ts";

/**
 * Signed tree heads: "org's log had `treeSize` entries whose Merkle tree hash was `rootHash`",
 * signed by the platform's audit key (KMS in the cloud, a stand-in offline). They are the
 * anchor a writer cannot alter: a customer who keeps one can later check that any entry is in
 * it (an inclusion proof) and that a newer head extends it (a consistency proof). The legacy
 * chain's checkpoints are signed the same way. Pure, so the API and the offline verifier share it.
 */

export type SignedTreeHead = {
  v: 1;
  org: string;
  treeSize: number;
  /** RFC 6962 Merkle tree hash of the first `treeSize` entries, lower-case hex. */
  rootHash: string;
  time: string;
  keyId: string;
  algorithm: SignatureAlgorithm;
  /** base64 of the signature over signedPayload(head). */
  signature: string;
};

/** A signed statement "org's legacy chain had `hash` at `seq`" (checkpoints are no longer made; old ones still verify). */
export type Checkpoint = {
  v: 1;
  org: string;
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  algorithm: SignatureAlgorithm;
  signature: string;
};

/** The bytes a signature covers: RFC 8785 canonical JSON of every field but the signature. */
export function signedPayload(statement: Record<string, unknown>): Buffer {
  const { signature: _ignored, ...signed } = statement;
  return Buffer.from(canonicalJson(signed), "utf8");
}

/** True when `statement` (a tree head or a legacy checkpoint) was signed by `publicKey` with the algorithm it names. */
export function signatureValid(statement: { algorithm: SignatureAlgorithm; signature: string }, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const signature = Buffer.from(String(statement.signature), "base64");
  const payload = signedPayload(statement);
  switch (statement.algorithm) {
    case "Ed25519":
      return key.asymmetricKeyType === "ed25519" && verifySignature(null, payload, key, signature);
    case "ECDSA_SHA_256":
      return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1"
        && verifySignature("sha256", payload, { key, dsaEncoding: "der" }, signature);
    default:
      return false;
  }
}

export const checkpointSignatureValid = (checkpoint: Checkpoint, publicKey: KeyObject | string): boolean => signatureValid(checkpoint, publicKey);

export async function signTreeHead(signer: CheckpointSigner, org: string, treeSize: number, rootHash: string, time: Date): Promise<SignedTreeHead> {
  const { keyId } = await signer.describe();
  const unsigned = { v: 1 as const, org, treeSize, rootHash, time: time.toISOString(), keyId, algorithm: signer.algorithm };
  return { ...unsigned, signature: (await signer.sign(signedPayload(unsigned))).toString("base64") };
}

const HASH = /^[0-9a-f]{64}$/;

/** A head as read from an untrusted file or answer: well-formed, for `org` if given, and validly signed. */
export function treeHeadProblem(head: unknown, publicKey: KeyObject | string, org?: string): string | undefined {
  const h = head as Partial<SignedTreeHead> | null;
  if (!h || typeof h !== "object" || h.v !== 1 || !Number.isSafeInteger(h.treeSize) || (h.treeSize as number) < 0
    || typeof h.rootHash !== "string" || !HASH.test(h.rootHash) || typeof h.signature !== "string" || typeof h.org !== "string") {
    return "malformed signed tree head";
  }
  if (org !== undefined && h.org !== org) return `the head is for org ${JSON.stringify(h.org)}, not ${JSON.stringify(org)}`;
  if (!signatureValid(h as SignedTreeHead, publicKey)) return `the head of tree size ${h.treeSize} is not validly signed by this key`;
  return undefined;
}
