import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appendLeaves, completedBy, nodeKey, ownerOfNode, rootOfFrontier, type NodeRef } from "../packages/core/src/audit/merkle/compact.ts";
import { consistencyPlan, consistencyProof, inclusionPlan, inclusionProof, rootAt, rootPlan } from "../packages/core/src/audit/merkle/proof.ts";
import { EMPTY_ROOT, leafHash, nodeHash } from "../packages/core/src/audit/merkle/rfc6962.ts";
import { verifyConsistency, verifyInclusion } from "../packages/core/src/audit/merkle/verify.ts";
import * as rfc from "./support/rfc6962-reference.ts";

/**
 * The audit log's Merkle tree against RFC 6962's own definitions (test/support/rfc6962-reference.ts,
 * an independent literal transcription) and against published test vectors.
 */

const MAX_SIZE = 2000;
const DATA = Array.from({ length: MAX_SIZE }, (_, i) => Buffer.from(`{"org":"acme","seq":${i + 1}}`, "utf8"));
const referenceMth = rfc.cachedMth();
const referenceRoot = (size: number) => referenceMth(DATA.slice(0, size));
const referencePath = (leafIndex: number, size: number) => rfc.path(leafIndex, DATA.slice(0, size), referenceMth);
const referenceProof = (oldSize: number, size: number) => rfc.proof(oldSize, DATA.slice(0, size), referenceMth);

type Log = { nodesPerLeaf: string[][]; store: Map<string, string>; frontier: string[]; root: string };

/** A log of `leaves` appended in batches of the given sizes, with the node store its entries' items make up. */
function logOf(leaves: readonly Uint8Array[], batches: readonly number[] = [leaves.length]): Log {
  let state = { size: 0, frontier: [] as string[], root: EMPTY_ROOT };
  const nodesPerLeaf: string[][] = [];
  for (const batch of batches) {
    const appended = appendLeaves(state.size, state.frontier, leaves.slice(state.size, state.size + batch).map((data) => leafHash(data)));
    nodesPerLeaf.push(...appended.nodesPerLeaf);
    state = appended;
  }
  expect(state.size).toBe(leaves.length);
  const store = new Map<string, string>();
  nodesPerLeaf.forEach((nodes, leafIndex) => {
    const refs = completedBy(leafIndex);
    expect(nodes).toHaveLength(refs.length);
    refs.forEach(({ level, index }, i) => store.set(nodeKey(level, index), nodes[i]!));
  });
  return { nodesPerLeaf, store, frontier: state.frontier, root: state.root };
}

const LOG = logOf(DATA);

/**
 * What the API does: one batched read of the planned nodes, each taken from the item of the
 * leaf that completed it, which must already be in the tree of `treeSize` leaves.
 */
function fetched(plan: readonly NodeRef[], treeSize: number, store = LOG.store): Map<string, string> {
  const keys = plan.map(({ level, index }) => nodeKey(level, index));
  expect(new Set(keys).size, "planned refs are distinct").toBe(keys.length);
  const read = new Map<string, string>();
  for (const { level, index } of plan) {
    expect(ownerOfNode(level, index)).toBeLessThan(treeSize);
    read.set(nodeKey(level, index), store.get(nodeKey(level, index))!);
  }
  return read;
}

const rootOf = (treeSize: number) => rootAt(treeSize, fetched(rootPlan(treeSize), treeSize));
const inclusionOf = (leafIndex: number, treeSize: number) =>
  inclusionProof(leafIndex, treeSize, fetched(inclusionPlan(leafIndex, treeSize), treeSize));
const consistencyOf = (oldSize: number, newSize: number) =>
  consistencyProof(oldSize, newSize, fetched(consistencyPlan(oldSize, newSize), newSize));

const flip = (hash: string, byte = 0, mask = 0x01): string => {
  const bytes = Buffer.from(hash, "hex");
  bytes[byte]! ^= mask;
  return bytes.toString("hex");
};
const OTHER_HASH = leafHash("not in the log");

/** Proofs that must not verify, each made from a valid one by one change. */
function forgedInclusions(leafIndex: number, treeSize: number, leaf: string, proof: string[], root: string, byte = 0) {
  const forged: Array<[string, Parameters<typeof verifyInclusion>]> = [
    ["index - 1", [leafIndex - 1, treeSize, leaf, proof, root]],
    ["index + 1", [leafIndex + 1, treeSize, leaf, proof, root]],
    ["index ^ 2", [leafIndex ^ 2, treeSize, leaf, proof, root]],
    // Not size ± 1: a root does not commit to its size (sizes whose paths have the same shape
    // verify alike), which is why a verifier takes size and root from the same signed head.
    ["size * 2", [leafIndex, treeSize * 2, leaf, proof, root]],
    ["size / 2", [leafIndex, Math.floor(treeSize / 2), leaf, proof, root]],
    ["flipped leaf", [leafIndex, treeSize, flip(leaf, byte), proof, root]],
    ["flipped root", [leafIndex, treeSize, leaf, proof, flip(root, byte)]],
    ["empty root", [leafIndex, treeSize, leaf, proof, EMPTY_ROOT]],
    ["extended by the root", [leafIndex, treeSize, leaf, [...proof, root], root]],
    ["extended by another hash", [leafIndex, treeSize, leaf, [...proof, OTHER_HASH], root]],
    ["preceded by the root", [leafIndex, treeSize, leaf, [root, ...proof], root]],
  ];
  proof.forEach((_, i) => forged.push([`flipped proof[${i}]`, [leafIndex, treeSize, leaf, proof.with(i, flip(proof[i]!, byte)), root]]));
  if (proof.length > 0) forged.push(["truncated", [leafIndex, treeSize, leaf, proof.slice(0, -1), root]]);
  if (proof.length > 1) forged.push(["element inserted", [leafIndex, treeSize, leaf, [proof[0]!, OTHER_HASH, ...proof.slice(1)], root]]);
  return forged;
}

function forgedConsistencies(oldSize: number, newSize: number, oldRoot: string, newRoot: string, proof: string[], byte = 0) {
  const forged: Array<[string, Parameters<typeof verifyConsistency>]> = [
    ["old size - 1", [oldSize - 1, newSize, oldRoot, newRoot, proof]],
    ["old size + 1", [oldSize + 1, newSize, oldRoot, newRoot, proof]],
    ["old size ^ 2", [oldSize ^ 2, newSize, oldRoot, newRoot, proof]],
    // Not new size ± 1, as for inclusion.
    ["new size * 2", [oldSize, newSize * 2, oldRoot, newRoot, proof]],
    ["new size / 2", [oldSize, Math.floor(newSize / 2), oldRoot, newRoot, proof]],
    ["swapped roots", [oldSize, newSize, newRoot, oldRoot, proof]],
    ["flipped old root", [oldSize, newSize, flip(oldRoot, byte), newRoot, proof]],
    ["flipped new root", [oldSize, newSize, oldRoot, flip(newRoot, byte), proof]],
    ["empty proof", [oldSize, newSize, oldRoot, newRoot, []]],
    ["extended by the old root", [oldSize, newSize, oldRoot, newRoot, [...proof, oldRoot]]],
    ["extended by the new root", [oldSize, newSize, oldRoot, newRoot, [...proof, newRoot]]],
    ["preceded by the old root", [oldSize, newSize, oldRoot, newRoot, [oldRoot, ...proof]]],
    ["preceded by proof[0]", [oldSize, newSize, oldRoot, newRoot, [proof[0]!, ...proof]]],
    ["truncated", [oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1)]],
  ];
  proof.forEach((_, i) => forged.push([`flipped proof[${i}]`, [oldSize, newSize, oldRoot, newRoot, proof.with(i, flip(proof[i]!, byte))]]));
  return forged;
}

const accepted = <A extends unknown[]>(verify: (...args: A) => boolean, forged: Array<[string, A]>) =>
  forged.filter(([, args]) => verify(...args)).map(([description]) => description);

/** Every check of one inclusion proof; `byte` picks which byte the forgeries flip. */
function checkInclusion(leafIndex: number, treeSize: number, byte = 0): void {
  const proof = inclusionOf(leafIndex, treeSize);
  expect(proof).toEqual(referencePath(leafIndex, treeSize));
  const root = rootOf(treeSize);
  const leaf = leafHash(DATA[leafIndex]!);
  expect(verifyInclusion(leafIndex, treeSize, leaf, proof, root)).toBe(true);
  expect(accepted(verifyInclusion, forgedInclusions(leafIndex, treeSize, leaf, proof, root, byte))).toEqual([]);
}

function checkConsistency(oldSize: number, newSize: number, byte = 0): void {
  const proof = consistencyOf(oldSize, newSize);
  const trivial = oldSize === 0 || oldSize === newSize;
  expect(proof).toEqual(trivial ? [] : referenceProof(oldSize, newSize));
  const [oldRoot, newRoot] = [rootOf(oldSize), rootOf(newSize)];
  expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
  if (!trivial) expect(accepted(verifyConsistency, forgedConsistencies(oldSize, newSize, oldRoot, newRoot, proof, byte))).toEqual([]);
}

describe("published test vectors", () => {
  // From transparency-dev/merkle, proof/verify_test.go (the RFC 6962 vectors it shares with
  // google/certificate-transparency): eight leaves of raw data, the root at each size 1..8,
  // and some inclusion proofs (leaf index, size) and consistency proofs (size1, size2).
  const leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    .map((hex) => Buffer.from(hex, "hex"));
  const roots = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  ];
  const inclusions: Array<[leafIndex: number, treeSize: number, proof: string[]]> = [
    [0, 1, []],
    [0, 8, [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]],
    [5, 8, [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]],
    [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
    [1, 5, [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]],
  ];
  const consistencies: Array<[oldSize: number, newSize: number, proof: string[]]> = [
    [1, 1, []],
    [1, 8, [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]],
    [6, 8, [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]],
    [2, 5, [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]],
    [6, 7, [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]],
  ];
  const vectorLog = logOf(leaves, [3, 1, 4]);
  const read = (plan: NodeRef[], treeSize: number) => fetched(plan, treeSize, vectorLog.store);

  it("has the empty root and the root of every size", () => {
    expect(EMPTY_ROOT).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(roots.map((_, i) => rootAt(i + 1, read(rootPlan(i + 1), i + 1)))).toEqual(roots);
    expect(vectorLog.root).toBe(roots[7]);
    expect(roots.map((_, i) => rfc.mth(leaves.slice(0, i + 1))), "the reference agrees too").toEqual(roots);
  });

  it.each(inclusions)("inclusion of leaf %i in a tree of %i", (leafIndex, treeSize, expected) => {
    expect(inclusionProof(leafIndex, treeSize, read(inclusionPlan(leafIndex, treeSize), treeSize))).toEqual(expected);
    const [leaf, root] = [leafHash(leaves[leafIndex]!), roots[treeSize - 1]!];
    expect(verifyInclusion(leafIndex, treeSize, leaf, expected, root)).toBe(true);
    expect(accepted(verifyInclusion, forgedInclusions(leafIndex, treeSize, leaf, expected, root))).toEqual([]);
  });

  it.each(consistencies)("consistency of %i with %i", (oldSize, newSize, expected) => {
    expect(consistencyProof(oldSize, newSize, read(consistencyPlan(oldSize, newSize), newSize))).toEqual(expected);
    const [oldRoot, newRoot] = [roots[oldSize - 1]!, roots[newSize - 1]!];
    expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, expected)).toBe(true);
    if (expected.length > 0) expect(accepted(verifyConsistency, forgedConsistencies(oldSize, newSize, oldRoot, newRoot, expected))).toEqual([]);
  });
});

describe("hashes", () => {
  it("separates leaves from nodes and hashes strings as UTF-8", () => {
    expect(leafHash("é\u{1F600}")).toBe(leafHash(Buffer.from("é\u{1F600}", "utf8")));
    expect(leafHash(DATA[0]!)).toBe(rfc.mth([DATA[0]!]));
    expect(nodeHash(leafHash(DATA[0]!), leafHash(DATA[1]!))).toBe(rfc.mth(DATA.slice(0, 2)));
    // A node is not a leaf over the same bytes: the 0x00 / 0x01 prefixes keep them apart.
    const [left, right] = [leafHash("a"), leafHash("b")];
    expect(nodeHash(left, right)).not.toBe(leafHash(Buffer.from(left + right, "hex")));
  });

  it("refuses a hash that is not 64 lower-case hex characters", () => {
    const valid = leafHash("a");
    for (const bad of [valid.toUpperCase(), valid.slice(1), `${valid}00`, `${valid.slice(2)}zz`, ""]) {
      expect(() => nodeHash(bad, valid)).toThrow(TypeError);
      expect(() => appendLeaves(0, [], [bad])).toThrow(TypeError);
    }
  });
});

describe("node store", () => {
  it("gives every complete aligned node exactly one owner, the leaf that completes it", () => {
    const size = 1024 + 512 + 3;
    const owners = new Map<string, number>();
    for (let leafIndex = 0; leafIndex < size; leafIndex++) {
      const refs = completedBy(leafIndex);
      expect(refs.map((ref) => ref.level)).toEqual(refs.map((_, level) => level));
      for (const { level, index } of refs) {
        expect(owners.has(nodeKey(level, index))).toBe(false);
        expect(ownerOfNode(level, index)).toBe(leafIndex);
        expect((index + 1) * 2 ** level).toBe(leafIndex + 1);
        owners.set(nodeKey(level, index), leafIndex);
      }
    }
    let complete = 0;
    for (let level = 0; 2 ** level <= size; level++) complete += Math.floor(size / 2 ** level);
    expect(owners.size).toBe(complete);
  });

  it("stores, on each leaf's item, the MTH of every node it completes", () => {
    for (const [key, hash] of LOG.store) {
      const [level, index] = key.split(":").map(Number) as [number, number];
      expect(hash, key).toBe(referenceMth(DATA.slice(index * 2 ** level, (index + 1) * 2 ** level)));
    }
  });

  it("makes the same nodes, frontier and root however the leaves are batched", () => {
    const batching = fc.integer({ min: 1, max: MAX_SIZE }).chain((size) =>
      fc.tuple(fc.constant(size), fc.uniqueArray(fc.integer({ min: 1, max: size }), { maxLength: 12 })));
    fc.assert(fc.property(batching, ([size, cuts]) => {
      const bounds = [0, ...cuts.filter((cut) => cut < size).sort((a, b) => a - b), size];
      const batches = bounds.slice(1).map((bound, i) => bound - bounds[i]!);
      const log = logOf(DATA.slice(0, size), batches);
      expect(log.root).toBe(referenceRoot(size));
      expect(log.nodesPerLeaf).toEqual(LOG.nodesPerLeaf.slice(0, size));
      expect(log.frontier).toEqual(rootPlan(size).map(({ level, index }) => LOG.store.get(nodeKey(level, index))));
      expect(rootOfFrontier(log.frontier)).toBe(log.root);
    }), { numRuns: 60 });
  });

  it("gives the root after each batch and accepts an empty batch", () => {
    let state = { size: 0, frontier: [] as string[] };
    for (const batch of [1, 0, 2, 5, 8, 1, 100, 0, 483]) {
      const appended = appendLeaves(state.size, state.frontier, LOG.nodesPerLeaf.slice(state.size, state.size + batch).map((nodes) => nodes[0]!));
      expect(appended.root).toBe(referenceRoot(appended.size));
      state = appended;
    }
    expect(state.size).toBe(600);
  });

  it("refuses a frontier that does not fit the size", () => {
    const leaf = leafHash("x");
    expect(() => appendLeaves(3, [leaf], [leaf])).toThrow(RangeError);
    expect(() => appendLeaves(0, [leaf], [leaf])).toThrow(RangeError);
    expect(() => appendLeaves(-1, [], [leaf])).toThrow(RangeError);
  });

  it("names a node the store did not supply instead of building a wrong proof", () => {
    const plan = inclusionPlan(5, 13);
    const read = fetched(plan, 13);
    read.delete(nodeKey(plan[0]!.level, plan[0]!.index));
    expect(() => inclusionProof(5, 13, read)).toThrow(`node ${nodeKey(plan[0]!.level, plan[0]!.index)} was not supplied`);
  });

  it("has the root of every past size", () => {
    expect(rootOf(0)).toBe(EMPTY_ROOT);
    for (let size = 1; size <= MAX_SIZE; size++) expect(rootOf(size)).toBe(referenceRoot(size));
  });
});

describe("inclusion proofs", () => {
  it("equal RFC 6962 PATH for every leaf of every size up to 300", () => {
    for (let treeSize = 1; treeSize <= 300; treeSize++) {
      for (let leafIndex = 0; leafIndex < treeSize; leafIndex++) expect(inclusionOf(leafIndex, treeSize)).toEqual(referencePath(leafIndex, treeSize));
    }
  });

  it("verify, and no one-change forgery does, for every leaf of every size up to 64", () => {
    for (let treeSize = 1; treeSize <= 64; treeSize++) {
      for (let leafIndex = 0; leafIndex < treeSize; leafIndex++) checkInclusion(leafIndex, treeSize, leafIndex % 32);
    }
  });

  it("verify, and no one-change forgery does, at random sizes up to 2000", () => {
    const cases = fc.integer({ min: 1, max: MAX_SIZE }).chain((treeSize) =>
      fc.tuple(fc.integer({ min: 0, max: treeSize - 1 }), fc.constant(treeSize), fc.integer({ min: 0, max: 31 })));
    fc.assert(fc.property(cases, ([leafIndex, treeSize, byte]) => checkInclusion(leafIndex, treeSize, byte)), { numRuns: 300 });
  });

  it("reject any single flipped bit anywhere in the proof", () => {
    const cases = fc.integer({ min: 2, max: MAX_SIZE }).chain((treeSize) => fc.tuple(
      fc.integer({ min: 0, max: treeSize - 1 }), fc.constant(treeSize), fc.nat(), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 })));
    fc.assert(fc.property(cases, ([leafIndex, treeSize, element, byte, bit]) => {
      const proof = inclusionOf(leafIndex, treeSize);
      const at = element % proof.length;
      const forged = proof.with(at, flip(proof[at]!, byte, 1 << bit));
      expect(verifyInclusion(leafIndex, treeSize, leafHash(DATA[leafIndex]!), forged, rootOf(treeSize))).toBe(false);
    }), { numRuns: 300 });
  });
});

describe("consistency proofs", () => {
  it("equal RFC 6962 PROOF, verify, and no one-change forgery does, for every pair of sizes up to 64", () => {
    for (let newSize = 0; newSize <= 64; newSize++) {
      for (let oldSize = 0; oldSize <= newSize; oldSize++) checkConsistency(oldSize, newSize, (oldSize + newSize) % 32);
    }
  });

  it("equal RFC 6962 PROOF for every old size of a few new sizes up to 2000", () => {
    for (const newSize of [255, 256, 257, 1000, 1023, 1024, 1025, MAX_SIZE]) {
      for (let oldSize = 1; oldSize < newSize; oldSize++) expect(consistencyOf(oldSize, newSize)).toEqual(referenceProof(oldSize, newSize));
    }
  });

  it("verify, and no one-change forgery does, at random sizes up to 2000", () => {
    const cases = fc.integer({ min: 1, max: MAX_SIZE }).chain((newSize) =>
      fc.tuple(fc.integer({ min: 0, max: newSize }), fc.constant(newSize), fc.integer({ min: 0, max: 31 })));
    fc.assert(fc.property(cases, ([oldSize, newSize, byte]) => checkConsistency(oldSize, newSize, byte)), { numRuns: 300 });
  });

  it("treat the empty tree and an unchanged tree as consistent only with an empty proof and matching roots", () => {
    const root = rootOf(5);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, root, [])).toBe(true);
    expect(verifyConsistency(0, 5, root, root, [])).toBe(false);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, root, [root])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(5, 5, root, root, [])).toBe(true);
    expect(verifyConsistency(5, 5, root, rootOf(4), [])).toBe(false);
    expect(verifyConsistency(5, 5, root, root, [root])).toBe(false);
  });
});

describe("verification of untrusted input", () => {
  const leaf = leafHash(DATA[2]!);
  const proof = inclusionOf(2, 7);
  const root = rootOf(7);
  const oldRoot = rootOf(3);
  const consistency = consistencyOf(3, 7);

  it("accepts the untouched inputs the cases below spoil", () => {
    expect(verifyInclusion(2, 7, leaf, proof, root)).toBe(true);
    expect(verifyConsistency(3, 7, oldRoot, root, consistency)).toBe(true);
  });

  it.each([
    ["index = size", [7, 7, leaf, proof, root]],
    ["index > size", [9, 7, leaf, proof, root]],
    ["negative index", [-1, 7, leaf, proof, root]],
    ["fractional index", [2.5, 7, leaf, proof, root]],
    ["NaN size", [2, Number.NaN, leaf, proof, root]],
    ["unsafe size", [2, 2 ** 53, leaf, proof, root]],
    ["empty tree", [0, 0, leaf, [], EMPTY_ROOT]],
    ["upper-case proof", [2, 7, leaf, proof.map((hash) => hash.toUpperCase()), root]],
    ["short element", [2, 7, leaf, [proof[0]!.slice(2), ...proof.slice(1)], root]],
    ["non-hex element", [2, 7, leaf, [`${proof[0]!.slice(2)}zz`, ...proof.slice(1)], root]],
    ["element not a string", [2, 7, leaf, [42, ...proof.slice(1)], root]],
    ["proof not an array", [2, 7, leaf, proof.join(""), root]],
    ["proof null", [2, 7, leaf, null, root]],
    ["leaf not hex", [2, 7, "leaf", proof, root]],
    ["root missing", [2, 7, leaf, proof, undefined]],
  ] as Array<[string, unknown[]]>)("inclusion: %s is false", (_, args) => {
    expect((verifyInclusion as (...args: unknown[]) => boolean)(...args)).toBe(false);
  });

  it.each([
    ["old size > new size", [8, 7, oldRoot, root, consistency]],
    ["negative old size", [-3, 7, oldRoot, root, consistency]],
    ["fractional new size", [3, 7.5, oldRoot, root, consistency]],
    ["string size", ["3", 7, oldRoot, root, consistency]],
    ["upper-case old root", [3, 7, oldRoot.toUpperCase(), root, consistency]],
    ["element not a string", [3, 7, oldRoot, root, [{}, ...consistency.slice(1)]]],
    ["proof not an array", [3, 7, oldRoot, root, { length: consistency.length }]],
  ] as Array<[string, unknown[]]>)("consistency: %s is false", (_, args) => {
    expect((verifyConsistency as (...args: unknown[]) => boolean)(...args)).toBe(false);
  });

  it("never throws on arbitrary arguments", () => {
    const hashLike = fc.oneof(fc.constantFrom(leaf, root, oldRoot, EMPTY_ROOT), fc.string(), fc.anything());
    const proofLike = fc.oneof(fc.constant(proof), fc.constant(consistency), fc.array(hashLike, { maxLength: 6 }), fc.anything());
    const sizeLike = fc.oneof(fc.integer({ min: -2, max: 20 }), fc.double(), fc.anything());
    fc.assert(fc.property(sizeLike, sizeLike, hashLike, hashLike, proofLike, (a, b, c, d, e) => {
      expect(typeof (verifyInclusion as (...args: unknown[]) => boolean)(a, b, c, e, d)).toBe("boolean");
      expect(typeof (verifyConsistency as (...args: unknown[]) => boolean)(a, b, c, d, e)).toBe("boolean");
    }), { numRuns: 2000 });
  });
});

describe("cost of a proof", () => {
  const bound = (treeSize: number) => 2 * Math.log2(treeSize) + 2;

  // Every index of the 100,000 leaf tree; a sample of those with all size bits set (the most
  // right-edge subtrees) and none.
  it.each([[100_000, 1], [2 ** 17 - 1, 7], [2 ** 17, 7]])("needs at most 2·log2(n) + 2 node reads in a tree of %i", (treeSize, stride) => {
    let inclusion = 0;
    let consistency = 0;
    for (let i = 0; i < treeSize; i += stride) {
      inclusion = Math.max(inclusion, inclusionPlan(i, treeSize).length);
      consistency = Math.max(consistency, consistencyPlan(i, treeSize).length);
    }
    expect(inclusion).toBeLessThanOrEqual(bound(treeSize));
    expect(consistency).toBeLessThanOrEqual(bound(treeSize));
    expect(rootPlan(treeSize).length).toBeLessThanOrEqual(Math.log2(treeSize) + 1);
    // The bound is not slack: some proof needs more than one read per level.
    expect(Math.max(inclusion, consistency)).toBeGreaterThan(Math.ceil(Math.log2(treeSize)));
  });
});
