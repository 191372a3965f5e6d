import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { keys } from "@bulkhead/core/data/keys";
import { localClient } from "@bulkhead/local/dynamodb";
import { startOffline } from "@bulkhead/local/runtime";
import { load, loadFn } from "./http-load.ts";

const TOTAL = 2000;
const CONCURRENCY = 16;

/**
 * Bench 3: requests/s and latency through the local gateway against DynamoDB Local, beside
 * DynamoDB Local's own GetItem round trip at the same concurrency.
 */
export async function endToEnd() {
  const offline = await startOffline({ dataDir: mkdtempSync(join(tmpdir(), "bulkhead-bench-")), memory: true, port: 0 });
  try {
    const host = "acme.localhost";
    const auth = { authorization: `Bearer ${offline.issuer.mint({ sub: "bench", org: "acme", role: "owner" })}` };
    const results: Record<string, unknown> = {};
    results["GET /v1/apps"] = await load(offline.port, () => ({ host, method: "GET", path: "/v1/apps", headers: auth }), TOTAL, CONCURRENCY);
    results["POST /v1/apps"] = await load(offline.port, (i) => ({
      host, method: "POST", path: "/v1/apps", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: `bench-${i}` }),
    }), TOTAL / 4, CONCURRENCY);

    const client = localClient(offline.dynamoEndpoint);
    const key = keys.orgRecord("acme");
    const floor = await loadFn(() => client.send(new GetItemCommand({
      TableName: offline.config.tableName, Key: { PK: { S: key.PK }, SK: { S: key.SK } },
    })), TOTAL, CONCURRENCY);
    return { total: TOTAL, concurrency: CONCURRENCY, routes: results, dynamoGetItemFloor: floor };
  } finally {
    await offline.stop();
  }
}
