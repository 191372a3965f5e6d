import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "../packages/core/src/apps.ts";
import { mapWithConcurrency, runKeyRotation, type RotationSummary } from "../packages/core/src/credentials/rotation.ts";
import { keyStore } from "../packages/core/src/credentials/select-key-store.ts";
import { putCredential, readCredentialValue } from "../packages/core/src/credentials/service.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { logger } from "../packages/core/src/log.ts";
import { startOffline } from "../packages/local/src/runtime.ts";

/**
 * `npm run bench:rotation [-- --apps 100 --credentials 100]`: seeds apps × credentials in a
 * throwaway offline store (DynamoDB Local in memory, the key store stand-in), then times one
 * forced run of the KEK-rotation job over all of them and checks every value still decrypts.
 */
export async function rotationBench(apps: number, credentials: number): Promise<{ seedMs: number; summary: RotationSummary }> {
  const offline = await startOffline({ dataDir: mkdtempSync(join(tmpdir(), "bulkhead-bench-")), memory: true, port: 0 });
  try {
    const table = tenantTable("acme");
    const store = keyStore();
    const seedStart = performance.now();
    const appIds = await mapWithConcurrency(Array.from({ length: apps }), 8, async () => {
      const { id } = await createApp(table, store, { name: "bench" });
      await mapWithConcurrency(Array.from({ length: credentials }, (_, i) => i), 8, (i) =>
        putCredential(table, store, { app: id, scope: { kind: "system" }, name: `cred-${i}` }, { value: `value-${id}-${i}` }));
      return id;
    });
    const seedMs = Math.round(performance.now() - seedStart);

    const summary = await runKeyRotation(store, { force: true });
    if (summary.rotated !== apps || summary.rewrapped !== apps * credentials || summary.failed) {
      throw new Error(`unexpected rotation summary: ${JSON.stringify(summary)}`);
    }
    await mapWithConcurrency(appIds, 8, async (app) => {
      for (let i = 0; i < credentials; i += Math.max(1, Math.floor(credentials / 5))) {
        const { value } = await readCredentialValue(table, store, { app, scope: { kind: "system" }, name: `cred-${i}` });
        if (value !== `value-${app}-${i}`) throw new Error(`credential ${app}/${i} did not survive rotation`);
      }
    });
    return { seedMs, summary };
  } finally {
    await offline.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL ?? "WARN") as Parameters<typeof logger.setLogLevel>[0]);
  const { values } = parseArgs({ options: { apps: { type: "string", default: "100" }, credentials: { type: "string", default: "100" } } });
  const apps = Number(values.apps);
  const credentials = Number(values.credentials);
  const { seedMs, summary } = await rotationBench(apps, credentials);
  const result = { apps, credentials, seedMs, rotationMs: summary.durationMs, rewrapped: summary.rewrapped, perDekMs: summary.durationMs / summary.rewrapped };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(new URL("./results.json", import.meta.url), `${JSON.stringify({ rotation: result, at: new Date().toISOString() }, null, 2)}\n`);
}
