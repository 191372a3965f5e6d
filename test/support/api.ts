import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { isRatePartition } from "../../packages/core/src/data/keys.ts";
import { inject } from "vitest";
import { gatewayClient } from "../../packages/local/src/client.ts";
import { localClient } from "../../packages/local/src/dynamodb.ts";
import { startOffline, type Offline, type OfflineOptions } from "../../packages/local/src/runtime.ts";
import type { OfflineWorkflowOptions } from "../../packages/local/src/workflows/offline-deployments.ts";

export type { CallOptions, Reply } from "../../packages/local/src/client.ts";

/** A running offline stack on its own table, and a client that speaks to it by hostname. */
export type TestApi = Awaited<ReturnType<typeof startTestApi>>;

/**
 * Workflows run with the production definition; offline only the pauses shrink: retries wait a
 * few ms and each test's build sandboxes live in a directory of their own.
 */
export async function startTestApi(options: {
  workflows?: OfflineWorkflowOptions; sweepIntervalMs?: number; auditFault?: OfflineOptions["auditFault"]; sourceUploads?: OfflineOptions["sourceUploads"];
} = {}) {
  const sandboxRoot = mkdtempSync(join(tmpdir(), "bulkhead-sandboxes-"));
  const offline: Offline = await startOffline({
    dataDir: mkdtempSync(join(tmpdir(), "bulkhead-test-")),
    dynamoEndpoint: inject("dynamoEndpoint"),
    tableName: `t-${randomUUID()}`,
    port: 0,
    workflows: { retryDelayMs: 5, sandboxRoot, ...options.workflows },
    auditFault: options.auditFault,
    sweepIntervalMs: options.sweepIntervalMs,
    sourceUploads: options.sourceUploads,
  });
  const raw = localClient(offline.dynamoEndpoint);
  const db = DynamoDBDocumentClient.from(raw);

  /**
   * Every item in the test's table, read with a raw client (tests only; never in product code),
   * but the request-rate buckets (`ORG#<org>#RATE`), which any request may change (`partition` reads them).
   */
  const dumpTable = async (): Promise<Record<string, any>[]> => {
    const items: Record<string, any>[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await raw.send(new ScanCommand({ TableName: offline.config.tableName, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []).map((item) => unmarshall(item)).filter((item) => !isRatePartition(item.PK)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };

  /** The table without audit logs (entries, heads, unsequenced records): what a refused request must leave exactly as it was. */
  const dumpData = async () => (await dumpTable()).filter((item) => !/#AUDIT(#PENDING)?$/.test(String(item.PK)));

  const partition = async (pk: string) =>
    (await db.send(new QueryCommand({
      TableName: offline.config.tableName,
      KeyConditionExpression: "PK = :pk",
      ExpressionAttributeValues: { ":pk": pk },
    }))).Items ?? [];

  return {
    ...gatewayClient(offline.port, offline.issuer),
    offline,
    /** An unguarded document client on the test's table: for tests that tamper with stored items. */
    db,
    dumpTable,
    dumpData,
    partition,
    sandboxRoot,
    stop: async () => {
      await offline.stop();
      rmSync(sandboxRoot, { recursive: true, force: true });
    },
  };
}
