import type { TenantTable } from "../data/tables.ts";
import { invalidRequest } from "../errors.ts";
import { leafOf } from "./entry.ts";
import type { NodeRef } from "./merkle/compact.ts";
import { consistencyPlan, consistencyProof, inclusionPlan, inclusionProof, rootAt, rootPlan } from "./merkle/proof.ts";
import { readProofItems, readTreeState, type TreeState } from "./tree-store.ts";

/**
 * Inclusion and consistency proofs, served from the complete subtrees stored on the entries
 * that close them (tree-store.ts): a proof is one read of the newest head and one BatchGet of the
 * O(log n) entries holding the nodes it needs, never a walk of the log.
 */

/** A tree size the log has reached, or a 400 that says what it has. */
function checkTreeSize(latest: TreeState, treeSize: number, name: string): void {
  if (treeSize > latest.treeSize) {
    throw invalidRequest(`${name} ${treeSize} is beyond the log's size (${latest.treeSize} entries are sequenced).`, { treeSize: latest.treeSize });
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
  if (seq > treeSize) throw invalidRequest(`seq ${seq} is not in a tree of size ${treeSize}.`);
  const leafIndex = seq - 1;
  const pathRefs = inclusionPlan(leafIndex, treeSize);
  const refs = [...pathRefs, ...rootRefs(latest, treeSize)];
  const { nodes, entry: stored, heads } = await readProofItems(table, refs, { entrySeq: seq, headSizes: [treeSize] });
  const entry = stored!;
  return {
    seq,
    treeSize,
    leafIndex,
    entry,
    leafHash: leafOf(entry),
    auditPath: inclusionProof(leafIndex, treeSize, nodes),
    rootHash: rootOf(latest, treeSize, nodes),
    head: heads.get(treeSize),
  };
}

export async function consistency(table: TenantTable, from: number, requestedTo?: number) {
  const latest = await readTreeState(table);
  const to = requestedTo ?? latest.treeSize;
  checkTreeSize(latest, to, "to");
  if (from > to) throw invalidRequest(`from (${from}) must not be greater than to (${to}).`);
  const refs = [...consistencyPlan(from, to), ...rootPlan(from), ...rootRefs(latest, to)];
  const { nodes, heads } = await readProofItems(table, refs, { headSizes: [from, to] });
  return {
    from,
    to,
    proof: consistencyProof(from, to, nodes),
    fromRoot: rootAt(from, nodes),
    toRoot: rootOf(latest, to, nodes),
    fromHead: heads.get(from),
    toHead: heads.get(to),
  };
}
