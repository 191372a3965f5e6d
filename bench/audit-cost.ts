import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createApp } from "@bulkhead/core/apps";
import { appendAudit, pendingAudit } from "@bulkhead/core/audit/chain";
import { keys } from "@bulkhead/core/data/keys";
import { tenantTable } from "@bulkhead/core/data/tables";
import { newId } from "@bulkhead/core/ids";
import { startOffline } from "@bulkhead/local/runtime";

/**
 * What auditing costs per write, against DynamoDB Local on this machine (`npm run bench:audit`).
 * A measurement to read, not a test: numbers vary with the machine and DynamoDB Local's JVM.
 */
const ROUNDS = Number(process.env.ROUNDS ?? 300);
const offline = await startOffline({ dataDir: mkdtempSync(join(tmpdir(), "bulkhead-bench-")), memory: true, port: 0 });

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms (n=${samples.length})`;
};
async function measure(label: string, once: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 30; i++) await once(-1 - i); // warm the JVM and the connection
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await once(i);
    samples.push(performance.now() - start);
  }
  console.log(`${label.padEnd(58)} ${stats(samples)}`);
}

const base = { actor: { kind: "system" as const, sub: "bench" }, action: "apps.create", requestId: "bench" };

const plain = tenantTable("bench-plain");
await measure("unaudited create (one conditional PutItem)", () => {
  const id = newId();
  return plain.client.send(new PutCommand({
    TableName: plain.name,
    Item: { ...keys.app(plain.org, id), type: "app", id, name: "n", createdAt: "t", updatedAt: "t" },
    ConditionExpression: "attribute_not_exists(PK)",
  }));
});
const audited = tenantTable("bench-audited");
await measure("audited create (head Query + TransactWriteItems of 2)", () => createApp(audited, { name: "n" }, pendingAudit(base)));
const standalone = tenantTable("bench-append");
await measure("standalone append (head Query + conditional PutItem)", () =>
  appendAudit(standalone, { ...base, target: {}, outcome: { result: "denied", status: 403 } }));

for (const writers of [10, 50]) {
  const table = tenantTable(`bench-concurrent-${writers}`);
  const start = performance.now();
  await Promise.all(Array.from({ length: writers }, () => appendAudit(table, { ...base, target: {}, outcome: { result: "ok" } })));
  console.log(`${`${writers} concurrent appends to one chain`.padEnd(58)} ${(performance.now() - start).toFixed(0)} ms total`);
}

await offline.stop();
