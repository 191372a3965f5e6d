import type { MiddlewareStack } from "@smithy/types";
import { isRatePartition } from "@bulkhead/core/data/keys";
import { platformTable, tenantTable } from "@bulkhead/core/data/tables";
import { routes } from "@bulkhead/core/routes";
import type { RouteDef } from "@bulkhead/core/routes/types";
import { gatewayClient } from "@bulkhead/local/client";
import { samples } from "../../../test/support/samples.ts";
import { benchOffline } from "./offline.ts";

const READS = new Set(["GetItemCommand", "QueryCommand", "BatchGetItemCommand", "TransactGetItemsCommand"]);
const WRITES = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "BatchWriteItemCommand", "TransactWriteItemsCommand"]);

/**
 * Bench 4: DynamoDB commands per API operation, counted by a client middleware on the handles the
 * handlers use, each route called once (warm) with its matrix sample.
 */
export async function callsPerOperation() {
  const offline = await benchOffline();
  try {
    const counts = { reads: 0, writes: 0, scans: 0, rateDraws: 0, other: 0 };
    const count = (stack: MiddlewareStack<any, any>) =>
      stack.add((next, context) => (args) => {
        const name = String(context.commandName);
        // A request-rate draw (limits/rate.ts) serves many requests, and which one pays it is chance: counted apart.
        if (isRatePartition((args.input as { Key?: { PK?: unknown } }).Key?.PK)) counts.rateDraws++;
        else if (READS.has(name)) counts.reads++;
        else if (WRITES.has(name)) counts.writes++;
        else if (name === "ScanCommand") counts.scans++;
        else counts.other++;
        return next(args);
      }, { step: "initialize", name: "benchCommandCounter" });
    count(platformTable().client.middlewareStack);
    count(tenantTable("acme").client.middlewareStack);

    const client = { ...gatewayClient(offline.port, offline.issuer), offline };
    const table: Record<string, { status: number; reads: number; writes: number; scans: number }> = {};
    for (const route of routes as readonly RouteDef[]) {
      const home = "platform" in route.access
        ? { host: route.host === "org" ? client.orgHost("acme") : client.platformHost, token: client.tokens.platform(route.access.platform[0]) }
        : "member" in route.access ? { host: client.orgHost("acme"), token: client.tokens.member("acme", route.access.member) }
        : { host: client.orgHost("acme"), token: undefined };
      const call = async () => {
        const sample = await samples[route.id as keyof typeof samples](client, "acme");
        Object.assign(counts, { reads: 0, writes: 0, scans: 0, rateDraws: 0, other: 0 });
        const headers = sample.enrollmentToken ? { authorization: `Enrollment ${sample.enrollmentToken}` } : undefined;
        // A runtime route is called by the runtime of the app its sample made.
        const token = "runtime" in route.access ? client.tokens.runtime("acme", sample.app!) : home.token;
        const reply = await client.call(home.host, route.method, sample.path, { token, body: sample.body, headers });
        return reply.status;
      };
      await call(); // warm: the org lookup is cached after the first request
      const status = await call();
      if (status >= 400) throw new Error(`bench: ${route.id} answered ${status}; the count would not be the operation's`);
      table[`${route.method} ${route.path}`] = { status, reads: counts.reads, writes: counts.writes, scans: counts.scans };
    }
    // The audit log's reads are two concurrent commands by design: its entries (or the newest head)
    // and the count of records still waiting (or one BatchGet of a proof's O(log n) nodes).
    const isAuditLogRead = (key: string) => key.startsWith("GET /v1/audit");
    const gets = Object.entries(table).filter(([key]) => key.startsWith("GET "));
    return {
      table,
      maxReadsPerGet: Math.max(...gets.filter(([key]) => !isAuditLogRead(key)).map(([, c]) => c.reads)),
      maxReadsPerAuditGet: Math.max(...gets.filter(([key]) => isAuditLogRead(key)).map(([, c]) => c.reads)),
      scans: Object.values(table).reduce((sum, c) => sum + c.scans, 0),
      goals: { maxReadsPerGet: 1, maxReadsPerAuditGet: 2, scans: 0 },
    };
  } finally {
    await offline.stop();
  }
}
