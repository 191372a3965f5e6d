import { EMPTY_ROOT, hashBytes, nodeHash } from "./rfc6962.ts";

/**
 * The tree's nodes and its right edge. Leaf i is the entry with seq i + 1. Node (level l,
 * index j) is the hash of the complete, aligned subtree over leaves [j·2^l, (j+1)·2^l). It never
 * changes once leaf (j+1)·2^l − 1 is appended, so that leaf's item keeps it (`nodes[l]`, see
 * completedBy). The frontier (a compact range over [0, size)) is all a writer needs to append.
 */

export type NodeRef = { level: number; index: number };
/** Hashes of the complete subtrees on the tree's right edge, largest first (one per set bit of the size). */
export type Frontier = string[];
export type AppendResult = { nodesPerLeaf: string[][]; frontier: Frontier; size: number; root: string };

export function nodeKey(level: number, index: number): string {
  return `${level}:${index}`;
}

/** The leaf whose append completes the node: the last leaf under it. */
export function ownerOfNode(level: number, index: number): number {
  return (index + 1) * 2 ** level - 1;
}

/** The nodes leaf `leafIndex` completes, by level: level l for every 2^l dividing leafIndex + 1. */
export function completedBy(leafIndex: number): NodeRef[] {
  assertSize(leafIndex, "leafIndex");
  const refs: NodeRef[] = [];
  for (let level = 0; (leafIndex + 1) % 2 ** level === 0; level++) refs.push({ level, index: (leafIndex + 1) / 2 ** level - 1 });
  return refs;
}

/**
 * Appends leaves to a tree of `size` leaves whose right edge is `frontier`, returning each new
 * leaf's completed nodes (in completedBy order), the new frontier, size and root.
 */
export function appendLeaves(size: number, frontier: readonly string[], leafHashes: readonly string[]): AppendResult {
  assertSize(size, "size");
  const expected = nodesCovering(0, size).length;
  if (frontier.length !== expected) throw new RangeError(`a tree of ${size} leaves has ${expected} frontier hashes, not ${frontier.length}`);
  frontier.forEach(hashBytes);
  const edge = [...frontier];
  let next = size;
  const nodesPerLeaf = leafHashes.map((leaf) => {
    hashBytes(leaf);
    const completed = [leaf];
    let node = leaf;
    // Each trailing 1 bit of the index means the newest subtree on the edge is the same size as
    // `node` and sits just left of it: they merge into the next level's node.
    for (let bits = next; bits % 2 === 1; bits = (bits - 1) / 2) {
      node = nodeHash(edge.pop()!, node);
      completed.push(node);
    }
    edge.push(node);
    next += 1;
    return completed;
  });
  return { nodesPerLeaf, frontier: edge, size: next, root: rootOfFrontier(edge) };
}

/**
 * MTH of the whole tree. The RFC splits a tree at the largest power of two below its size, which
 * is the first (largest) frontier subtree; the rest is again a tree of that shape. So the root is
 * the frontier folded from the right: node(f0, node(f1, … node(fk-1, fk))).
 */
export function rootOfFrontier(frontier: readonly string[]): string {
  if (frontier.length === 0) return EMPTY_ROOT;
  return frontier.reduceRight((right, left) => nodeHash(left, right));
}

/** The largest aligned nodes covering [start, end), left to right. */
export function nodesCovering(start: number, end: number): NodeRef[] {
  const refs: NodeRef[] = [];
  while (start < end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
    refs.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return refs;
}

export const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function assertSize(n: number, name: string): void {
  if (!isSize(n)) throw new RangeError(`${name} must be a non-negative safe integer, not ${n}`);
}
