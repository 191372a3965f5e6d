import { isSize } from "./compact.ts";
import { EMPTY_ROOT, isHash, nodeHash } from "./rfc6962.ts";

/**
 * Checking proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2), which needs nothing but the proof and
 * the hashes it is checked against. Any malformed input is false, never an exception. A root
 * does not commit to its size (a proof can verify at a neighbouring size whose path has the same
 * shape), so each size and its root must come from the same signed tree head.
 */

/** True when `proof` shows the leaf with hash `leaf` at `leafIndex` in the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(leafIndex: number, treeSize: number, leaf: string, proof: readonly string[], root: string): boolean {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize || !isHash(leaf) || !isHash(root) || !isProof(proof)) return false;
  let hash = leaf;
  const reachesRoot = climb(leafIndex, treeSize - 1, proof, (sibling, isLeft) => {
    hash = isLeft ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
  });
  return reachesRoot && hash === root;
}

/** True when `proof` shows the tree of `oldSize` leaves with `oldRoot` is a prefix of the tree of `newSize` leaves with `newRoot`. */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: string, newRoot: string, proof: readonly string[]): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize || !isHash(oldRoot) || !isHash(newRoot) || !isProof(proof)) return false;
  if (oldSize === 0 && oldRoot !== EMPTY_ROOT) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot === newRoot;
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  // When the old tree is a complete subtree the RFC leaves its root out of the proof.
  const [first, ...rest] = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let oldHash = first!;
  let newHash = first!;
  const reachesRoot = climb(fn, sn, rest, (sibling, isLeft) => {
    if (isLeft) oldHash = nodeHash(sibling, oldHash);
    newHash = isLeft ? nodeHash(sibling, newHash) : nodeHash(newHash, sibling);
  });
  return reachesRoot && oldHash === oldRoot && newHash === newRoot;
}

/**
 * The walk both RFC 9162 verifiers share: `fn` is the current node's index at its level and `sn`
 * the last index at that level. A sibling is on the left when `fn` is odd or `fn` is the last
 * (a right-edge node with no right sibling is carried up until it is a right child). True when
 * the path ends exactly at the root.
 */
function climb(fn: number, sn: number, path: readonly string[], combine: (sibling: string, isLeft: boolean) => void): boolean {
  for (const sibling of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      combine(sibling, true);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      combine(sibling, false);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

const isProof = (proof: unknown): proof is string[] => Array.isArray(proof) && proof.every(isHash);
