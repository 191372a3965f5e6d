import { createHash } from "node:crypto";

/**
 * RFC 6962 section 2.1 hashing: a leaf is SHA-256(0x00 || data), an interior node
 * SHA-256(0x01 || left || right). Every hash at the tree's API is 64 lower-case hex characters.
 */

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);
const HASH = /^[0-9a-f]{64}$/;

/** MTH({}): the root of the empty tree. */
export const EMPTY_ROOT = createHash("sha256").digest("hex");

export function leafHash(data: string | Uint8Array): string {
  return createHash("sha256").update(LEAF_PREFIX).update(typeof data === "string" ? Buffer.from(data, "utf8") : data).digest("hex");
}

export function nodeHash(left: string, right: string): string {
  return createHash("sha256").update(NODE_PREFIX).update(hashBytes(left)).update(hashBytes(right)).digest("hex");
}

export const isHash = (value: unknown): value is string => typeof value === "string" && HASH.test(value);

export function hashBytes(hash: string): Buffer {
  if (!isHash(hash)) throw new TypeError("a hash must be 64 lower-case hex characters");
  return Buffer.from(hash, "hex");
}
