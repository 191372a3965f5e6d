import { keys, type ItemKey } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { problems } from "../problem.ts";
import { leafOf } from "./entry.ts";
import { nodeKey, ownerOfNode, type NodeRef } from "./merkle/compact.ts";
import { consistencyPlan, consistencyProof, inclusionPlan, inclusionProof, rootAt, rootPlan } from "./merkle/proof.ts";
import { entryOf, readItems, treeHeadOf } from "./read.ts";
import { readTreeState, type TreeState } from "./sequencer.ts";
import type { SignedTreeHead } from "./tree-heads.ts";

/**
 * Inclusion and consistency proofs, served from the complete subtrees stored on the entries
 * that close them (sequencer.ts): a proof is one read of the newest head and one BatchGet of the
 * O(log n) entries holding the nodes it needs, never a walk of the log.
 */

/** Entries holding `refs`, and any extra items, in one read; keyed by sort key. */
function readNodeItems(table: TenantTable, refs: readonly NodeRef[], extra: readonly ItemKey[]): Promise<Map<string, Record<string, any>>> {
  const wanted = new Map<string, ItemKey>();
  for (const ref of refs) {
    const key = keys.auditEntry(table.org, ownerOfNode(ref.level, ref.index) + 1);
    wanted.set(key.SK, key);
  }
  for (const key of extra) wanted.set(key.SK, key);
  return readItems(table, [...wanted.values()]);
}

/** The node hashes `refs` name, as merkle/proof.ts reads them; a node missing from its entry is a damaged log. */
function nodesOf(table: TenantTable, refs: readonly NodeRef[], items: Map<string, Record<string, any>>): Map<string, string> {
  const nodes = new Map<string, string>();
  for (const ref of refs) {
    const hash = items.get(keys.auditEntry(table.org, ownerOfNode(ref.level, ref.index) + 1).SK)?.nodes?.[ref.level];
    if (typeof hash !== "string") throw new Error(`audit log of ${table.org}: node ${nodeKey(ref.level, ref.index)} is missing`);
    nodes.set(nodeKey(ref.level, ref.index), hash);
  }
  return nodes;
}

const headAt = (items: Map<string, Record<string, any>>, table: TenantTable, treeSize: number): SignedTreeHead | undefined => {
  const item = items.get(keys.auditTreeHead(table.org, treeSize).SK);
  return item && treeHeadOf(item);
};

/** A tree size the log has reached, or a 400 that says what it has. */
function checkTreeSize(latest: TreeState, treeSize: number, name: string): void {
  if (treeSize > latest.treeSize) {
    throw problems.badRequest(`${name} ${treeSize} is beyond the log's size (${latest.treeSize} entries are sequenced).`, { treeSize: latest.treeSize });
  }
}

/** The root at `treeSize`: the newest head's when it is the newest size, else recomputed from stored nodes. */
const rootRefs = (latest: TreeState, treeSize: number): NodeRef[] => (treeSize === latest.treeSize ? [] : rootPlan(treeSize));
const rootOf = (latest: TreeState, treeSize: number, nodes: Map<string, string>): string =>
  treeSize === latest.treeSize ? latest.rootHash : rootAt(treeSize, nodes);

export async function inclusion(table: TenantTable, seq: number, requestedTreeSize?: number) {
  const latest = await readTreeState(table);
  const treeSize = requestedTreeSize ?? latest.treeSize;
  checkTreeSize(latest, treeSize, "treeSize");
  if (seq > treeSize) throw problems.badRequest(`seq ${seq} is not in a tree of size ${treeSize}.`);
  const leafIndex = seq - 1;
  const pathRefs = inclusionPlan(leafIndex, treeSize);
  const refs = [...pathRefs, ...rootRefs(latest, treeSize)];
  const entryKey = keys.auditEntry(table.org, seq);
  const items = await readNodeItems(table, refs, [entryKey, keys.auditTreeHead(table.org, treeSize)]);
  const nodes = nodesOf(table, refs, items);
  const entry = entryOf(items.get(entryKey.SK)!);
  return {
    seq,
    treeSize,
    leafIndex,
    entry,
    leafHash: leafOf(entry),
    auditPath: inclusionProof(leafIndex, treeSize, nodes),
    rootHash: rootOf(latest, treeSize, nodes),
    head: headAt(items, table, treeSize),
  };
}

export async function consistency(table: TenantTable, from: number, requestedTo?: number) {
  const latest = await readTreeState(table);
  const to = requestedTo ?? latest.treeSize;
  checkTreeSize(latest, to, "to");
  if (from > to) throw problems.badRequest(`from (${from}) must not be greater than to (${to}).`);
  const refs = [...consistencyPlan(from, to), ...rootPlan(from), ...rootRefs(latest, to)];
  const items = await readNodeItems(table, refs, [keys.auditTreeHead(table.org, from), keys.auditTreeHead(table.org, to)]);
  const nodes = nodesOf(table, refs, items);
  return {
    from,
    to,
    proof: consistencyProof(from, to, nodes),
    fromRoot: rootAt(from, nodes),
    toRoot: rootOf(latest, to, nodes),
    fromHead: headAt(items, table, from),
    toHead: headAt(items, table, to),
  };
}
