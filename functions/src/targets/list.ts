import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { listTargets } from "@bulkhead/core/targets/targets";

export const handler = defineHandler("targets.list", async ({ query }, { table }) => ({
  body: await listTargets(table!, cursorKey(), query),
}));
