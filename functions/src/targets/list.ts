import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/targets";
import { listTargets } from "@bulkhead/core/targets/targets";

export const handler = defineHandler(routes, "targets.list", async ({ query }, { table }) => ({
  body: await listTargets(table!, cursorKey(), query),
}));
