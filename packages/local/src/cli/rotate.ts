import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runKeyRotation } from "@bulkhead/core/credentials/rotation/job";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { ensureTable, JavaMissing, localClient, startDynamoLocal, type LocalDynamo } from "../dynamodb.ts";
import { findRunningInstance, linkOffline } from "../runtime.ts";

/**
 * `npm run rotate [-- --now] [-- --at <ISO time>]`: one run of the KEK-rotation job. It works
 * against the running `npm start` of the same data dir when there is one (sharing its DynamoDB
 * Local and key store), and starts its own local store on the data dir otherwise.
 *   --now   rotate every app, due or not
 *   --at    run as if the clock showed this time (e.g. 40 days ahead, to make apps due)
 */
const { values } = parseArgs({ options: { now: { type: "boolean", default: false }, at: { type: "string" } } });
const dataDir = resolve(process.env.BULKHEAD_DATA_DIR ?? ".bulkhead");
const at = values.at ? new Date(values.at) : undefined;
if (at && Number.isNaN(at.getTime())) {
  console.error("rotate: --at must be an ISO date-time, e.g. 2030-01-01T00:00:00Z");
  process.exit(2);
}

let own: LocalDynamo | undefined;
try {
  const running = findRunningInstance(dataDir);
  if (running) {
    console.error(`rotate: using the running npm start (pid ${running.pid}, ${running.url})`);
    linkOffline({ dataDir, tableName: running.tableName, dynamoEndpoint: running.dynamoEndpoint, keyStoreDirectory: running.keyStoreDirectory, port: 0 });
  } else {
    console.error(`rotate: no npm start running on ${dataDir}; starting a local store there`);
    own = await startDynamoLocal({ dataDir: join(dataDir, "dynamodb") });
    await ensureTable(localClient(own.endpoint), "bulkhead");
    linkOffline({ dataDir, tableName: "bulkhead", dynamoEndpoint: own.endpoint, keyStoreDirectory: join(dataDir, "keystore"), port: 0 });
  }
  const summary = await runKeyRotation(keyStore(), { force: values.now, now: at });
  console.error(`rotate: ${summary.due} due, ${summary.rotated} rotated, ${summary.resumed} resumed, ${summary.deferred} deferred, `
    + `${summary.busy} busy, ${summary.failed} failed; ${summary.rewrapped} DEKs re-wrapped, ${summary.retired} versions retired in ${summary.durationMs} ms`);
  process.exitCode = summary.failed ? 1 : 0;
} catch (error) {
  console.error(error instanceof JavaMissing ? error.message : `rotate failed: ${(error as Error).stack}`);
  process.exitCode = 1;
} finally {
  await own?.stop();
}
