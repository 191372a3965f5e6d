import { createHash } from "node:crypto";

/**
 * The Merkle tree of an org's audit log, as defined in RFC 6962 section 2.1: leaf i is the entry
 * with seq i + 1, hashed over the entry's canonical JSON. Pure and synchronous; every hash at this
 * API is 64 lower-case hex characters.
 *
 * What is stored: node (level l, index j) is the hash of the complete, aligned subtree over
 * leaves [j·2^l, (j+1)·2^l). It never changes once leaf (j+1)·2^l − 1 is appended, so that leaf's
 * item keeps it (`nodes[l]`, see completedBy). Every root, audit path and consistency proof is
 * built from O(log n) such nodes: plan the refs, fetch them in one batch, assemble.
 */

export type NodeRef = { level: number; index: number };
/** Hashes of the complete subtrees on the tree's right edge, largest first (one per set bit of the size). */
export type Frontier = string[];
/** Node hashes by nodeKey. */
export type NodeHashes = ReadonlyMap<string, string>;
export type AppendResult = { nodesPerLeaf: string[][]; frontier: Frontier; size: number; root: string };

type Range = readonly [start: number, end: number];

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

/**
 * RFC 9162 section 2.1.3.2: true when `proof` shows the leaf with hash `leaf` at `leafIndex` in
 * the tree of `treeSize` leaves with `root`. Any malformed input is false, never an exception.
 * A root does not commit to its size (a proof can verify at a neighbouring size whose path has the
 * same shape), so size and root must come from the same signed tree head.
 */
export function verifyInclusion(leafIndex: number, treeSize: number, leaf: string, proof: readonly string[], root: string): boolean {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize || !isHash(leaf) || !isHash(root) || !isProof(proof)) return false;
  let hash = leaf;
  const reachesRoot = climb(leafIndex, treeSize - 1, proof, (sibling, isLeft) => {
    hash = isLeft ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
  });
  return reachesRoot && hash === root;
}

/**
 * RFC 9162 section 2.1.4.2: true when `proof` shows the tree of `oldSize` leaves with `oldRoot`
 * is a prefix of the tree of `newSize` leaves with `newRoot`. Any malformed input is false.
 * As for inclusion, each size and its root must come from one signed tree head.
 */
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

/** The largest aligned nodes covering [start, end), left to right. */
function nodesCovering(start: number, end: number): NodeRef[] {
  const refs: NodeRef[] = [];
  while (start < end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
    refs.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return refs;
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

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}


const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isHash = (value: unknown): value is string => typeof value === "string" && HASH.test(value);
const isProof = (proof: unknown): proof is string[] => Array.isArray(proof) && proof.every(isHash);

function assertSize(n: number, name: string): void {
  if (!isSize(n)) throw new RangeError(`${name} must be a non-negative safe integer, not ${n}`);
}

function hashBytes(hash: string): Buffer {
  if (!isHash(hash)) throw new TypeError("a hash must be 64 lower-case hex characters");
  return Buffer.from(hash, "hex");
}
