import { inclusion } from "@bulkhead/core/audit/proofs";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.inclusion", async ({ query }, { table }) => ({
  body: await inclusion(table!, query.seq, query.treeSize),
}));
