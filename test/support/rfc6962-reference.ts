import { createHash } from "node:crypto";

/**
 * RFC 6962 section 2.1 transcribed as literally as possible, over lists of leaf data, to check
 * packages/core/src/audit/merkle/ against. It shares no code with those modules: slow on purpose,
 * every definition recursive over list slices as the RFC writes it. Hashes are lower-case hex.
 */

type Data = readonly Uint8Array[];

const sha256 = (...parts: Uint8Array[]): string => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
};
const bytes = (hex: string): Buffer => Buffer.from(hex, "hex");

/** "k is the largest power of two smaller than n (i.e., k < n <= 2k)". */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (2 * k < n) k = 2 * k;
  return k;
}

/** MTH(D[n]): the empty hash for n = 0, SHA-256(0x00 || d(0)) for one entry, else SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export type Mth = (d: Data) => string;

export function mth(d: Data): string {
  const n = d.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Uint8Array.of(0x00), d[0]!);
  const k = largestPowerOfTwoBelow(n);
  return sha256(Uint8Array.of(0x01), bytes(mth(d.slice(0, k))), bytes(mth(d.slice(k, n))));
}

/**
 * MTH is a pure function of the list, so a cache keyed by the slice's first entry (by identity)
 * and its length returns the same values; it only keeps exhaustive sweeps over every leaf of
 * every size affordable. Use one per list of leaves.
 */
export function cachedMth(): Mth {
  const cache = new Map<Uint8Array, Map<number, string>>();
  const cached: Mth = (d) => {
    if (d.length <= 1) return mth(d);
    const byLength = cache.get(d[0]!) ?? new Map<number, string>();
    cache.set(d[0]!, byLength);
    let hash = byLength.get(d.length);
    if (hash === undefined) {
      const k = largestPowerOfTwoBelow(d.length);
      hash = sha256(Uint8Array.of(0x01), bytes(cached(d.slice(0, k))), bytes(cached(d.slice(k))));
      byLength.set(d.length, hash);
    }
    return hash;
  };
  return cached;
}

/** PATH(m, D[n]), section 2.1.1. */
export function path(m: number, d: Data, hashOf: Mth = mth): string[] {
  const n = d.length;
  if (n === 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...path(m, d.slice(0, k), hashOf), hashOf(d.slice(k, n))];
  return [...path(m - k, d.slice(k, n), hashOf), hashOf(d.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), section 2.1.2, for 0 < m < n. */
export function proof(m: number, d: Data, hashOf: Mth = mth): string[] {
  return subproof(m, d, true, hashOf);
}

function subproof(m: number, d: Data, b: boolean, hashOf: Mth): string[] {
  const n = d.length;
  if (m === n) return b ? [] : [hashOf(d)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, d.slice(0, k), b, hashOf), hashOf(d.slice(k, n))];
  return [...subproof(m - k, d.slice(k, n), false, hashOf), hashOf(d.slice(0, k))];
}
