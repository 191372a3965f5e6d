import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { decodeTime } from "ulid";
import { BoundedCache } from "../bounded-cache.ts";
import { mapWithConcurrency } from "../concurrency.ts";
import { auditRecordIdOf, keys, orgOfAuditRecordPartition, type ItemKey } from "../data/keys.ts";
import { sequencerTable, type TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import { drainRecords, sequenceRecords, type SequencerOptions } from "./sequencer.ts";
import { readWaitingRecords } from "./tree-store.ts";

/**
 * The sequencer's feed: the table's stream, filtered to new audit records. Declared once: infra
 * gives the pattern to the event source mapping (Lambda applies it before invoking), and the
 * offline stream reader applies the same pattern with matchesFilter.
 */
export const AUDIT_RECORD_FILTER = {
  eventName: ["INSERT"],
  dynamodb: { Keys: { SK: { S: [{ prefix: keys.auditRecordPrefix }] } } },
} as const;

/** How the event source mapping feeds the sequencer (infra/audit.ts; the offline reader gathers its batches the same way). */
export const AUDIT_STREAM_SETTINGS = {
  /**
   * Records per invocation, gathered for up to the batching window: the sequencer's cost is per
   * org per batch (a head read, a record read, one transaction and one signature), so a batch of
   * many records per org costs little more than a batch of one. With many orgs writing, batches
   * handed on as records arrive would hold one or two records per org.
   */
  batchSize: 1000,
  maximumBatchingWindowInSeconds: 1,
  /** A failing batch is split in two and retried, so one bad record cannot hold back the others for long. */
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 10,
  /** TRIM_HORIZON: records committed before the mapping existed are sequenced too. */
  startingPosition: "TRIM_HORIZON",
} as const;

/** The slice of a DynamoDB stream record the sequencer reads (Lambda's and the Streams API's shapes agree here). */
export type StreamRecord = {
  eventName?: string;
  dynamodb?: { Keys?: Record<string, unknown>; SequenceNumber?: string };
};

type Pattern = { readonly [key: string]: Pattern | readonly (string | { readonly prefix: string })[] };

/**
 * Lambda event filtering, for the subset of its pattern language AUDIT_RECORD_FILTER uses: a
 * field matches a list of exact values or `{ prefix }`, and objects match field by field.
 */
export function matchesFilter(pattern: Pattern, value: unknown): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = (value as Record<string, unknown> | undefined)?.[field];
    if (!Array.isArray(expected)) return matchesFilter(expected as Pattern, actual);
    return typeof actual === "string" && expected.some((option) => typeof option === "string" ? option === actual : actual.startsWith(option.prefix));
  });
}

/**
 * The audit records a stream batch names, by org, each org's in stream (commit) order. The
 * stream carries keys only: a record's content is read from the table, which is what the
 * writer committed, and a record already sequenced is simply no longer there.
 */
export function recordKeysByOrg(records: readonly StreamRecord[]): Map<string, ItemKey[]> {
  const byOrg = new Map<string, ItemKey[]>();
  for (const record of records) {
    if (!matchesFilter(AUDIT_RECORD_FILTER, record) || !record.dynamodb?.Keys) continue;
    const key = unmarshall(record.dynamodb.Keys as Record<string, AttributeValue>) as ItemKey;
    const org = orgOfAuditRecordPartition(String(key.PK));
    if (!org) {
      logger.error("audit stream record outside an org's record partition", { partition: String(key.PK) });
      continue;
    }
    byOrg.set(org, [...(byOrg.get(org) ?? []), key]);
  }
  return byOrg;
}

/**
 * How much older than a batch's oldest record a waiting record must be to count as left behind:
 * more than a writer's transaction takes between making a record's id and committing it, so a
 * record whose own delivery is merely in flight is not taken early.
 */
export const STRAGGLER_MARGIN_MS = 5_000;

/** Stragglers are rare: an org's batches look for them at most this often per instance, not at every batch. */
export const CATCH_UP_EVERY_MS = 30_000;
const MAX_TRACKED_ORGS = 4_096;
const lastCatchUp = new BoundedCache<string, number>(MAX_TRACKED_ORGS);

/**
 * Sequences the org's records that a failed or lost delivery left waiting (a batch past its
 * retries is skipped by the event source mapping): any record made well before this batch's
 * oldest. One Query when there are none, at most once per CATCH_UP_EVERY_MS per org. A failure
 * here is logged, not thrown: it must not hold back the batch that found it, and a later batch
 * tries again.
 */
async function catchUpStragglers(table: TenantTable, recordKeys: readonly ItemKey[], options: SequencerOptions): Promise<number> {
  const now = Date.now();
  if (now - (lastCatchUp.get(table.org) ?? 0) < CATCH_UP_EVERY_MS) return 0;
  lastCatchUp.set(table.org, now);
  try {
    const times = recordKeys.map((key) => decodeTime(auditRecordIdOf(key)));
    const caughtUp = await drainRecords(table, options, Math.min(...times) - STRAGGLER_MARGIN_MS);
    if (caughtUp) logger.warn("audit records left behind by an earlier delivery were sequenced", { org: table.org, count: caughtUp });
    return caughtUp;
  } catch (error) {
    logger.error("audit catch-up failed; the org's next batch retries it", { org: table.org, error: error as Error });
    return 0;
  }
}

/**
 * Orgs of one batch sequenced at once. Bounded: each org's batch is a transaction of up to 99
 * items, and a burst of them all at once holds up the table's other writers (DynamoDB Local
 * runs them one by one). At four at a time a batch of a thousand orgs, at a generous 200 ms an
 * org (its session, head, records, signature and transaction), takes under a minute: the
 * function's timeout (infra/audit.ts) leaves it five.
 */
export const ORGS_AT_ONCE = 4;

/**
 * One stream batch: each org's records sequenced through that org's own table handle (its key
 * guard and, in the cloud, its session-tagged credentials). Orgs are independent; if any fails,
 * the batch fails after the others are done, and its redelivery skips what was sequenced.
 */
export async function sequenceStreamBatch(records: readonly StreamRecord[], options: SequencerOptions): Promise<{ orgs: number; entries: number }> {
  const byOrg = recordKeysByOrg(records);
  const results = await mapWithConcurrency([...byOrg], ORGS_AT_ONCE, ([org, recordKeys]) => settle((async () => {
    const table = sequencerTable(org);
    let placed: number;
    try {
      placed = await sequenceRecords(table, await readWaitingRecords(table, recordKeys), options);
    } catch (error) {
      // A failed batch may become a skipped one: the org's next batch here looks for stragglers at once.
      lastCatchUp.delete(org);
      throw error;
    }
    return placed + await catchUpStragglers(table, recordKeys, options);
  })()));
  const failed = results.filter((result) => result.status === "rejected");
  if (failed.length) {
    for (const failure of failed) logger.error("audit sequencing failed", { error: (failure as PromiseRejectedResult).reason as Error });
    throw new Error(`audit sequencing failed for ${failed.length} of ${byOrg.size} org(s)`);
  }
  return { orgs: byOrg.size, entries: results.reduce((sum, result) => sum + (result as PromiseFulfilledResult<number>).value, 0) };
}

const settle = <T>(work: Promise<T>): Promise<PromiseSettledResult<T>> =>
  work.then((value) => ({ status: "fulfilled", value }), (reason: unknown) => ({ status: "rejected", reason }));
