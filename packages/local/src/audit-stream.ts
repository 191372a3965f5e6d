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
import { checkpointSigner } from "@bulkhead/core/audit/signer";
import { AUDIT_RECORD_FILTER, AUDIT_STREAM_SETTINGS, matchesFilter, sequenceStreamBatch, type StreamRecord } from "@bulkhead/core/audit/stream";
import { logger } from "@bulkhead/core/log";
import { LOCAL_AWS_ENV, localClient } from "./dynamodb.ts";

/**
 * The offline stand-in for the event source mapping that feeds the audit sequencer in the cloud:
 * it reads the table's stream from DynamoDB Local (which has streams) shard by shard, parents
 * before children, and hands each batch to the same sequenceStreamBatch the Lambda runs, with
 * the same filter. One batch at a time per table, so each org has one sequencer. A batch that
 * fails is retried as the mapping would (up to its retry count), then left behind: the org's
 * next batch catches its records up (sequenceStreamBatch).
 */
export type AuditStream = { stop: () => Promise<void> };

/**
 * Stream records read per call: GetRecords' maximum. Most of the table's stream is not audit
 * records (every write of the table is on it), and DynamoDB Local pays per call, so the reader
 * skims them a page at a time and hands on the audit records in the mapping's batch size.
 */
const STREAM_PAGE = 1000;

const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

type ShardCursor = { iterator?: string; lastSequence?: string; failures: number };

export async function startAuditStream(options: { endpoint: string; tableName: string; pollMs?: number; fault?: SequencerOptions["fault"] }): Promise<AuditStream> {
  const pollMs = options.pollMs ?? 20;
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
    // A child shard waits until its parent is read to the end: the stream's order per key.
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

  /** Reads one batch of a shard and sequences it; returns how many records it read. */
  const readShard = async (shardId: string): Promise<number> => {
    const cursor = cursors.get(shardId) ?? { failures: 0 };
    cursors.set(shardId, cursor);
    cursor.iterator ??= await iteratorOf(shardId, cursor);
    if (!cursor.iterator) return (finished.add(shardId), 0);
    let page;
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: STREAM_PAGE }));
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      cursor.iterator = undefined;
      return 0;
    }
    const records = (page.Records ?? []) as StreamRecord[];
    if (records.length) {
      try {
        // As the mapping filters before it batches: only audit records make up the batches.
        const batches = chunks(records.filter((record) => matchesFilter(AUDIT_RECORD_FILTER, record)), AUDIT_STREAM_SETTINGS.batchSize);
        for (const batch of batches) await sequenceStreamBatch(batch, { signer: await checkpointSigner(), fault: options.fault });
      } catch (error) {
        // The iterator stays where it was: the same batch is read again, as the mapping retries.
        if (++cursor.failures <= AUDIT_STREAM_SETTINGS.maximumRetryAttempts) throw error;
        logger.error("audit stream batch dropped after its retries; the org's next batch catches its records up", { error: error as Error });
      }
      cursor.failures = 0;
      cursor.lastSequence = records.at(-1)!.dynamodb?.SequenceNumber;
    }
    cursor.iterator = page.NextShardIterator;
    if (!cursor.iterator) finished.add(shardId);
    return records.length;
  };

  // Shards change rarely (a closed shard's children): the list is read again each second or when one ends.
  let shards: Shard[] = [];
  let describedAt = 0;
  const loop = (async () => {
    while (!stopped) {
      let read = 0;
      try {
        if (Date.now() - describedAt > 1000 || shards.some((shard) => finished.has(shard.ShardId!))) {
          shards = await openShards();
          describedAt = Date.now();
        }
        for (const shard of shards) read += await readShard(shard.ShardId!);
      } catch (error) {
        logger.error("audit stream read failed; retrying", { error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, pollMs * 10));
      }
      if (!read) await new Promise((resolve) => setTimeout(resolve, pollMs));
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
