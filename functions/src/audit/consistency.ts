import { consistency } from "@bulkhead/core/audit/proofs";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.consistency", async ({ query }, { table }) => ({
  body: await consistency(table!, query.from, query.to),
}));
