import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { appendAudit, pendingAudit, transactAudited } from "@bulkhead/core/audit/chain";
import { keys } from "@bulkhead/core/data/keys";
import { tenantTable } from "@bulkhead/core/data/tables";
import { newId } from "@bulkhead/core/ids";
import { benchOffline } from "./offline.ts";
import { round, summarize } from "./stats.ts";

const ROUNDS = 300;
const WARMUP = 30;

async function measure(once: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  const { median, p99 } = summarize(samples);
  return { medianMs: round(median), p99Ms: round(p99) };
}

/**
 * Bench: what auditing costs per write against DynamoDB Local: an app write alone, the same write
 * committed with its audit entry, a standalone append, and concurrent appends to one chain.
 */
export async function auditCost() {
  const offline = await benchOffline();
  try {
    const base = { actor: { kind: "system" as const, sub: "bench" }, action: "apps.create", requestId: "bench" };
    const appItem = (org: string, table: string) => {
      const id = newId();
      return { id, put: { TableName: table, Item: { ...keys.app(org, id), type: "app", id, name: "n" }, ConditionExpression: "attribute_not_exists(PK)" } };
    };
    const plain = tenantTable("bench-plain");
    const audited = tenantTable("bench-audited");
    const standalone = tenantTable("bench-append");
    const result: Record<string, unknown> = {
      unauditedWrite: await measure(() => plain.client.send(new PutCommand(appItem(plain.org, plain.name).put))),
      auditedWrite: await measure(() => {
        const { id, put } = appItem(audited.org, audited.name);
        return transactAudited(audited, pendingAudit(base), { appId: id }, [{ Put: put }]);
      }),
      standaloneAppend: await measure(() => appendAudit(standalone, { ...base, target: {}, outcome: { result: "denied", status: 403 } })),
    };
    for (const writers of [10, 50]) {
      const table = tenantTable(`bench-concurrent-${writers}`);
      const start = performance.now();
      await Promise.all(Array.from({ length: writers }, () => appendAudit(table, { ...base, target: {}, outcome: { result: "ok" } })));
      result[`concurrentAppends${writers}Ms`] = round(performance.now() - start);
    }
    return result;
  } finally {
    await offline.stop();
  }
}
