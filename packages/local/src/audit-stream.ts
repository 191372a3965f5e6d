import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { SequencerOptions } from "@bulkhead/core/audit/sequencer";
import { checkpointSigner } from "@bulkhead/core/audit/select-signer";
import { AUDIT_RECORD_FILTER, AUDIT_STREAM_SETTINGS, matchesFilter, sequenceStreamBatch, type StreamRecord } from "@bulkhead/core/audit/stream";
import { logger } from "@bulkhead/core/log";
import { LOCAL_AWS_ENV, localClient } from "./dynamodb.ts";

/**
 * The offline stand-in for the event source mapping that feeds the audit sequencer in the cloud:
 * it reads the table's stream from DynamoDB Local (which has streams) shard by shard, parents
 * before children, and hands each batch to the same sequenceStreamBatch the Lambda runs, with
 * the same filter, batch size and batching window. One batch at a time per table, so each org
 * has one sequencer. A batch that fails is retried as the mapping would (up to its retry
 * count), then left behind: the org's next batch catches its records up (sequenceStreamBatch).
 */
export type AuditStream = { stop: () => Promise<void> };

/**
 * Stream records read per call: GetRecords' maximum. Most of the table's stream is not audit
 * records (every write of the table is on it), and DynamoDB Local pays per call, so the reader
 * skims them a page at a time and keeps only the audit records.
 */
const STREAM_PAGE = 1000;
/** The pause before a failed read or batch is tried again. */
const RETRY_PAUSE_MS = 200;

/**
 * A shard's read position and the audit records read but not yet handed on: as the mapping does,
 * the reader gathers a batch until it holds batchSize records or its first record has waited the
 * batching window, then hands it on, and retries that same batch when it fails.
 */
type ShardCursor = { iterator?: string; lastSequence?: string; ended?: boolean; batch: StreamRecord[]; batchSince: number; failures: number };

export async function startAuditStream(options: { endpoint: string; tableName: string; pollMs?: number; fault?: SequencerOptions["fault"] }): Promise<AuditStream> {
  const pollMs = options.pollMs ?? 100;
  const windowMs = AUDIT_STREAM_SETTINGS.maximumBatchingWindowInSeconds * 1000;
  const { Table } = await localClient(options.endpoint).send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
  const cursors = new Map<string, ShardCursor>();
  const finished = new Set<string>();
  let stopped = false;

  const openShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    const known = new Set(shards.map((shard) => shard.ShardId));
    // A child shard waits until its parent is read (and handed on) to the end: the stream's order per key.
    return shards.filter((shard) => !finished.has(shard.ShardId!) && (!shard.ParentShardId || !known.has(shard.ParentShardId) || finished.has(shard.ParentShardId)));
  };

  const iteratorOf = async (shardId: string, cursor: ShardCursor) => {
    const { ShardIterator } = await streams.send(new GetShardIteratorCommand({
      StreamArn: streamArn,
      ShardId: shardId,
      ...(cursor.lastSequence ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: cursor.lastSequence } : { ShardIteratorType: AUDIT_STREAM_SETTINGS.startingPosition }),
    }));
    return ShardIterator;
  };

  /** Reads one page of a shard into its batch; returns how many stream records it read. */
  const readPage = async (shardId: string, cursor: ShardCursor): Promise<number> => {
    cursor.iterator ??= await iteratorOf(shardId, cursor);
    if (!cursor.iterator) return (cursor.ended = true, 0);
    let page;
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: STREAM_PAGE }));
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      cursor.iterator = undefined;
      return 0;
    }
    const records = (page.Records ?? []) as StreamRecord[];
    // As the mapping filters before it batches: only audit records make up the batches.
    const audit = records.filter((record) => matchesFilter(AUDIT_RECORD_FILTER, record));
    if (audit.length && !cursor.batch.length) cursor.batchSince = Date.now();
    cursor.batch.push(...audit);
    if (records.length) cursor.lastSequence = records.at(-1)!.dynamodb?.SequenceNumber;
    cursor.iterator = page.NextShardIterator;
    if (!cursor.iterator) cursor.ended = true;
    return records.length;
  };

  /** Hands on the shard's batch if it is full, has waited its window, or its shard has ended. */
  const handOn = async (cursor: ShardCursor): Promise<void> => {
    const due = cursor.batch.length >= AUDIT_STREAM_SETTINGS.batchSize || Date.now() - cursor.batchSince >= windowMs || cursor.ended;
    if (!cursor.batch.length || !due) return;
    const batch = cursor.batch.slice(0, AUDIT_STREAM_SETTINGS.batchSize);
    try {
      await sequenceStreamBatch(batch, { signer: await checkpointSigner(), fault: options.fault });
    } catch (error) {
      // The batch stays: it is handed on again, as the mapping retries.
      if (++cursor.failures <= AUDIT_STREAM_SETTINGS.maximumRetryAttempts) throw error;
      logger.error("audit stream batch dropped after its retries; the org's next batch catches its records up", { error: error as Error });
    }
    cursor.failures = 0;
    // Records left over were read after the batch began: they are due at once, as the mapping reads on.
    cursor.batch.splice(0, batch.length);
  };

  /**
   * One step of a shard: a page read unless its batch is full or failing (a retry hands on the
   * same records), then the batch handed on when due; returns the stream records read.
   */
  const readShard = async (shardId: string): Promise<number> => {
    const cursor = cursors.get(shardId) ?? { batch: [], batchSince: 0, failures: 0 };
    cursors.set(shardId, cursor);
    const reading = !cursor.ended && !cursor.failures && cursor.batch.length < AUDIT_STREAM_SETTINGS.batchSize;
    const read = reading ? await readPage(shardId, cursor) : 0;
    await handOn(cursor);
    if (cursor.ended && !cursor.batch.length) finished.add(shardId);
    return read;
  };

  // Shards change rarely (a closed shard's children): the list is read again each second or when one ends.
  let shards: Shard[] = [];
  let describedAt = 0;
  const loop = (async () => {
    while (!stopped) {
      let behind = false;
      let failed = false;
      try {
        if (Date.now() - describedAt > 1000 || shards.some((shard) => finished.has(shard.ShardId!))) {
          shards = await openShards();
          describedAt = Date.now();
        }
      } catch (error) {
        logger.error("audit stream shards could not be listed; retrying", { error: error as Error });
        failed = true;
      }
      // Each shard on its own: one shard's failing batch does not hold back the others.
      for (const shard of shards) {
        try {
          behind = (await readShard(shard.ShardId!)) === STREAM_PAGE || behind;
        } catch (error) {
          logger.error("audit stream read or batch failed; retrying", { shard: shard.ShardId, error: error as Error });
          failed = true;
        }
      }
      if (failed) await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      // Caught up: wait a poll interval rather than ask DynamoDB Local again for a page of a few records.
      if (!behind) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      await loop;
      streams.destroy();
    },
  };
}
