import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "@bulkhead/core/apps";
import { pendingAudit } from "@bulkhead/core/audit/chain";
import { mapWithConcurrency, runKeyRotation, type RotationSummary } from "@bulkhead/core/credentials/rotation";
import { keyStore } from "@bulkhead/core/credentials/select-key-store";
import { putCredential, readCredentialValue } from "@bulkhead/core/credentials/service";
import { tenantTable } from "@bulkhead/core/data/tables";
import { startOffline } from "@bulkhead/local/runtime";

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
      const { id } = await createApp(table, store, { name: "bench" }, pendingAudit({ actor: { kind: "system", sub: "bench" }, action: "apps.create", requestId: "bench" }));
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

/** Bench 5: DEKs re-wrapped per second by one forced rotation of 100 apps × 100 credentials. */
export async function rotation() {
  const apps = 100;
  const credentials = 100;
  const { seedMs, summary } = await rotationBench(apps, credentials);
  return {
    apps, credentials, seedMs, rotationMs: summary.durationMs, rewrapped: summary.rewrapped,
    dekRewrapsPerSecond: Math.round(summary.rewrapped / (summary.durationMs / 1000)),
  };
}
