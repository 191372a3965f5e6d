import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { appendAudit, commitAudited, pendingAudit } from "@bulkhead/core/audit/chain";
import { auditRecord, leafOf, type AuditEntry } from "@bulkhead/core/audit/entry";
import { appendLeaves } from "@bulkhead/core/audit/merkle/compact";
import { consistency, inclusion } from "@bulkhead/core/audit/proofs";
import { checkpointSigner } from "@bulkhead/core/audit/select-signer";
import { drainRecords } from "@bulkhead/core/audit/sequencer";
import { readTreeState } from "@bulkhead/core/audit/tree-store";
import { signTreeHead } from "@bulkhead/core/audit/tree-heads";
import { keys } from "@bulkhead/core/data/keys";
import { tenantTable, type TenantTable } from "@bulkhead/core/data/tables";
import { newId } from "@bulkhead/core/ids";
import { loadFn } from "./http-load.ts";
import { benchOffline } from "./offline.ts";
import { round, summarize } from "./stats.ts";

const ROUNDS = 300;
const WARMUP = 30;
const CONCURRENCY = 16;
/** Records written at CONCURRENCY for commit-to-sequenced, and drained by one sequencer for its rate. */
const SEQUENCED_RECORDS = 2000;
const DRAINED_RECORDS = 3000;
/** The log the proofs are measured on. */
const PROOF_LOG_SIZE = 100_000;
const PROOF_ROUNDS = 200;
/** The org whose records the stream leaves alone, so the drain measures one sequencer on its own. */
const HELD_ORG = "bench-drain";

async function measure(once: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  const { median, p99 } = summarize(samples);
  return { medianMs: round(median), p99Ms: round(p99) };
}

const base = { actor: { kind: "system" as const, sub: "bench" }, action: "bench.append", requestId: "bench" };

/** Waits until the org has no record waiting; every entry is then covered by a signed head. */
async function settled(table: TenantTable) {
  const { pendingCount } = await import("@bulkhead/core/audit/read");
  while (await pendingCount(table)) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Commit to sequenced: each entry's record time (its commit) against the time of the first
 * signed head that covers it (when the sequencer committed it). Both are stored, so nothing is
 * timed from the outside.
 */
async function commitToSequenced(table: TenantTable) {
  await loadFn(() => appendAudit(table, { ...base, target: {}, outcome: { result: "ok" } }), SEQUENCED_RECORDS, CONCURRENCY);
  await settled(table);
  const { readAuditPartition, entryOf, treeHeadOf } = await import("@bulkhead/core/audit/read");
  const heads: { treeSize: number; time: number }[] = [];
  const delays: number[] = [];
  for await (const item of readAuditPartition(table)) {
    const sortKey = String(item.SK);
    if (sortKey.startsWith(keys.auditTreeHeadPrefix)) {
      const head = treeHeadOf(item);
      heads.push({ treeSize: head.treeSize, time: Date.parse(head.time) });
    } else if (sortKey.startsWith(keys.auditEntryPrefix)) {
      const entry = entryOf(item) as AuditEntry;
      const head = heads.find((h) => h.treeSize >= entry.seq)!;
      delays.push(head.time - Date.parse(entry.time));
    }
  }
  const { median, p99 } = summarize(delays);
  return { records: delays.length, heads: heads.length, meanBatch: round(delays.length / heads.length), medianMs: round(median), p99Ms: round(p99) };
}

/** Entries per second one sequencer places, draining records the stream was kept off. */
async function sequencerRate(table: TenantTable) {
  await loadFn(() => appendAudit(table, { ...base, target: {}, outcome: { result: "ok" } }), DRAINED_RECORDS, CONCURRENCY);
  const start = performance.now();
  const placed = await drainRecords(table, { signer: await checkpointSigner() });
  const seconds = (performance.now() - start) / 1000;
  return { entries: placed, seconds: round(seconds), entriesPerSecond: Math.round(placed / seconds) };
}

/** A log of PROOF_LOG_SIZE entries written straight into the table as the sequencer stores them, and one signed head. */
async function seedLog(table: TenantTable) {
  const entries: AuditEntry[] = Array.from({ length: PROOF_LOG_SIZE }, (_, i) => ({
    ...auditRecord(table.org, newId(), { ...base, target: { n: String(i) }, outcome: { result: "ok" } }, new Date()), seq: i + 1,
  }));
  const grown = appendLeaves(0, [], entries.map(leafOf));
  const items = entries.map((entry, i) => ({ ...keys.auditEntry(table.org, entry.seq), ...entry, nodes: grown.nodesPerLeaf[i]! }));
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await loadFn(async (i) => {
    let pending = batches[i]!.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length) {
      const { UnprocessedItems = {} } = await table.client.send(new BatchWriteCommand({ RequestItems: { [table.name]: pending } }));
      pending = (UnprocessedItems[table.name] ?? []) as typeof pending;
    }
  }, batches.length, CONCURRENCY);
  const head = await signTreeHead(await checkpointSigner(), table.org, grown.size, grown.root, new Date());
  await table.client.send(new PutCommand({ TableName: table.name, Item: { ...keys.auditTreeHead(table.org, grown.size), ...head, frontier: grown.frontier } }));
}

/** Median µs and the DynamoDB commands and items one proof reads. */
async function proofCost(table: TenantTable, prove: (i: number) => Promise<unknown>) {
  const reads: { commands: number; items: number }[] = [];
  const name = `count-${newId()}`;
  let current = { commands: 0, items: 0 };
  table.client.middlewareStack.add((next) => async (args: any) => {
    current.commands++;
    const wanted = args.input.RequestItems?.[table.name]?.Keys?.length ?? args.input.Limit ?? 0;
    current.items += wanted;
    return next(args);
  }, { step: "initialize", name });
  const samples: number[] = [];
  try {
    for (let i = 0; i < PROOF_ROUNDS; i++) {
      current = { commands: 0, items: 0 };
      const start = performance.now();
      await prove(i);
      samples.push((performance.now() - start) * 1000);
      reads.push(current);
    }
  } finally {
    table.client.middlewareStack.remove(name);
  }
  const { median, p99 } = summarize(samples);
  return {
    medianMicros: Math.round(median),
    p99Micros: Math.round(p99),
    commands: Math.max(...reads.map((r) => r.commands)),
    maxItemsRead: Math.max(...reads.map((r) => r.items)),
  };
}

/**
 * Bench: what the audit log costs. Writes: an app write alone, the same write committed with its
 * audit record, a standalone record. Sequencing: commit to sequenced at concurrency 16, and one
 * sequencer's rate. Proofs over 100,000 entries: reads and µs each.
 */
export async function auditCost() {
  const offline = await benchOffline({ auditFault: (_step, org) => {
    if (org === HELD_ORG) throw new Error("held for the drain bench");
  } });
  try {
    const appItem = (org: string, table: string) => {
      const id = newId();
      return { id, put: { TableName: table, Item: { ...keys.app(org, id), type: "app", id, name: "n" }, ConditionExpression: "attribute_not_exists(PK)" } };
    };
    const plain = tenantTable("bench-plain");
    const audited = tenantTable("bench-audited");
    const standalone = tenantTable("bench-append");
    const writes = {
      unauditedWrite: await measure(() => plain.client.send(new PutCommand(appItem(plain.org, plain.name).put))),
      auditedWrite: await measure(() => {
        const { id, put } = appItem(audited.org, audited.name);
        return commitAudited(audited, pendingAudit({ ...base, action: "apps.create" }), { appId: id }, [{ name: "app", Put: put }]);
      }),
      standaloneAppend: await measure(() => appendAudit(standalone, { ...base, target: {}, outcome: { result: "denied", status: 403 } })),
    };
    const sequencing = {
      commitToSequenced: await commitToSequenced(tenantTable("bench-sequenced")),
      oneSequencer: await sequencerRate(tenantTable(HELD_ORG)),
    };
    const proofs = tenantTable("bench-proofs");
    await seedLog(proofs);
    const size = (await readTreeState(proofs)).treeSize;
    const proofFigures = {
      logSize: size,
      inclusion: await proofCost(proofs, (i) => inclusion(proofs, 1 + ((i * 7919) % size), size)),
      consistency: await proofCost(proofs, (i) => consistency(proofs, 1 + ((i * 7919) % (size - 1)), size)),
    };
    return { writes, sequencing, proofs: proofFigures };
  } finally {
    await offline.stop();
  }
}
