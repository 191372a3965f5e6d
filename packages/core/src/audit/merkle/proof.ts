import { assertSize, nodeKey, nodesCovering, rootOfFrontier, type NodeRef } from "./compact.ts";
import { EMPTY_ROOT } from "./rfc6962.ts";

/**
 * Proofs built from stored nodes: each plan names the O(log n) nodes a root, an audit path or a
 * consistency proof needs, the caller fetches them in one batch, and the proof is assembled
 * from what was fetched.
 */

/** Node hashes by nodeKey. */
export type NodeHashes = ReadonlyMap<string, string>;

type Range = readonly [start: number, end: number];

/** The nodes rootAt needs; for the current size they are also its frontier. */
export function rootPlan(treeSize: number): NodeRef[] {
  assertSize(treeSize, "treeSize");
  return nodesCovering(0, treeSize);
}

/** The root the tree had when it held `treeSize` leaves. */
export function rootAt(treeSize: number, nodes: NodeHashes): string {
  assertSize(treeSize, "treeSize");
  return treeSize === 0 ? EMPTY_ROOT : rangeHash([0, treeSize], nodes);
}

export function inclusionPlan(leafIndex: number, treeSize: number): NodeRef[] {
  return refsFor(pathRanges(leafIndex, treeSize));
}

/** RFC 6962 PATH(leafIndex, D[treeSize]) (section 2.1.1), from the nodes inclusionPlan named. */
export function inclusionProof(leafIndex: number, treeSize: number, nodes: NodeHashes): string[] {
  return pathRanges(leafIndex, treeSize).map((range) => rangeHash(range, nodes));
}

export function consistencyPlan(oldSize: number, newSize: number): NodeRef[] {
  return refsFor(consistencyRanges(oldSize, newSize));
}

/** RFC 6962 PROOF(oldSize, D[newSize]) (section 2.1.2), from the nodes consistencyPlan named; empty when oldSize is 0 or newSize. */
export function consistencyProof(oldSize: number, newSize: number, nodes: NodeHashes): string[] {
  return consistencyRanges(oldSize, newSize).map((range) => rangeHash(range, nodes));
}

/** The subtrees whose MTHs make up PATH(leafIndex, D[treeSize]), in proof order. */
function pathRanges(leafIndex: number, treeSize: number): Range[] {
  assertSize(treeSize, "treeSize");
  assertSize(leafIndex, "leafIndex");
  if (leafIndex >= treeSize) throw new RangeError(`leafIndex ${leafIndex} is not in a tree of ${treeSize} leaves`);
  const path = (start: number, end: number): Range[] => {
    if (end - start === 1) return [];
    const mid = start + splitOf(end - start);
    return leafIndex < mid ? [...path(start, mid), [mid, end]] : [...path(mid, end), [start, mid]];
  };
  return path(0, treeSize);
}

/** The subtrees whose MTHs make up PROOF(oldSize, D[newSize]), SUBPROOF unrolled over ranges. */
function consistencyRanges(oldSize: number, newSize: number): Range[] {
  assertSize(oldSize, "oldSize");
  assertSize(newSize, "newSize");
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} is larger than newSize ${newSize}`);
  const subproof = (start: number, end: number, isOldTree: boolean): Range[] => {
    if (end === oldSize) return isOldTree ? [] : [[start, end]];
    const mid = start + splitOf(end - start);
    return oldSize <= mid ? [...subproof(start, mid, isOldTree), [mid, end]] : [...subproof(mid, end, false), [start, mid]];
  };
  return oldSize === 0 || oldSize === newSize ? [] : subproof(0, newSize, true);
}

/**
 * A proof element is either a complete aligned subtree (one node) or, on the right edge,
 * [start, treeSize) with `start` aligned to a power of two at least as large as the range. Such a
 * range is shaped like a whole tree of its length, so its MTH is its decomposition folded from
 * the right, exactly as rootOfFrontier folds a frontier.
 */
function rangeHash(range: Range, nodes: NodeHashes): string {
  return rootOfFrontier(nodesCovering(...range).map(({ level, index }) => {
    const hash = nodes.get(nodeKey(level, index));
    if (hash === undefined) throw new RangeError(`node ${nodeKey(level, index)} was not supplied`);
    return hash;
  }));
}

function refsFor(ranges: readonly Range[]): NodeRef[] {
  const refs = new Map<string, NodeRef>();
  for (const range of ranges) for (const ref of nodesCovering(...range)) refs.set(nodeKey(ref.level, ref.index), ref);
  return [...refs.values()];
}

/** The RFC's k: the largest power of two smaller than n (n ≥ 2). */
function splitOf(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
