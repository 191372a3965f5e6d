import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { localClient } from "@bulkhead/local/dynamodb";
import { startOffline, type Offline, type OfflineOptions } from "@bulkhead/local/runtime";

/** Set by run.ts for each bench process: the endpoint of the DynamoDB Local it started for that bench. */
export const SHARED_DYNAMODB_ENV = "BULKHEAD_BENCH_DYNAMODB_ENDPOINT";

/**
 * A throwaway offline stack for one bench: its own gateway, dev issuer, key store and table. Under
 * `npm run bench` the table lives in the DynamoDB Local that run.ts started for this bench, and is
 * dropped afterwards; a bench run on its own starts its own.
 */
export async function benchOffline(options: Pick<OfflineOptions, "auditFault"> = {}): Promise<Offline> {
  const dataDir = mkdtempSync(join(tmpdir(), "bulkhead-bench-"));
  const shared = process.env[SHARED_DYNAMODB_ENV];
  if (!shared) return startOffline({ dataDir, memory: true, port: 0, ...options });
  const tableName = `bench-${randomUUID()}`;
  const offline = await startOffline({ dataDir, memory: true, port: 0, dynamoEndpoint: shared, tableName, ...options });
  return {
    ...offline,
    stop: async () => {
      await offline.stop();
      await localClient(shared).send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}
