import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { createApp } from "@bulkhead/core/apps";
import { pendingAudit } from "@bulkhead/core/audit/chain";
import { seal } from "@bulkhead/core/credentials/envelope";
import { mapWithConcurrency } from "@bulkhead/core/concurrency";
import { runKeyRotation, type RotationSummary } from "@bulkhead/core/credentials/rotation/job";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { credentialItem, readCredentialValue, type CredentialTarget } from "@bulkhead/core/credentials/service";
import { tenantTable } from "@bulkhead/core/data/tables";
import { benchOffline } from "./offline.ts";

/** Credentials stored per transaction when seeding (DynamoDB's limit on actions in one). */
const SEED_BATCH = 100;

/**
 * Seeds apps × credentials in a throwaway offline store (the key store stand-in, DynamoDB Local),
 * then times one forced run of the KEK-rotation job over all of them and checks values still
 * decrypt. Apps are made by createApp (KEK, rotation index); credentials are the items
 * putCredential stores (credentialItem, sealed under the app's current KEK) written 100 to a
 * transaction: the PUT route's own cost is bench 3's, and 10,000 of them would take most of
 * this bench's time without changing what the rotation has to do.
 */
export async function rotationBench(apps: number, credentials: number): Promise<{ seedMs: number; summary: RotationSummary }> {
  const offline = await benchOffline();
  try {
    const table = tenantTable("acme");
    const store = keyStore();
    const seedStart = performance.now();
    const appIds = await mapWithConcurrency(Array.from({ length: apps }), 8, async () => {
      const { id } = await createApp(table, store, { name: "bench" }, pendingAudit({ actor: { kind: "system", sub: "bench" }, action: "apps.create", requestId: "bench" }));
      const kek = await store.current({ org: table.org, app: id });
      const at = new Date().toISOString();
      const items = Array.from({ length: credentials }, (_, i) => {
        const target: CredentialTarget = { app: id, scope: { kind: "system" }, name: `cred-${i}` };
        return credentialItem(table, target, seal(Buffer.from(`value-${id}-${i}`, "utf8"), { org: table.org, ...target }, kek), {}, at);
      });
      for (let i = 0; i < items.length; i += SEED_BATCH) {
        await table.client.send(new TransactWriteCommand({
          TransactItems: items.slice(i, i + SEED_BATCH).map((Item) => ({ Put: { TableName: table.name, Item, ConditionExpression: "attribute_not_exists(PK)" } })),
        }));
      }
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
