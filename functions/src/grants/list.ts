import { cursorKey } from "@bulkhead/core/config";
import { listGrants } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/grants";

export const handler = defineHandler(routes, "grants.list", async ({ query }, { table }) => ({
  body: await listGrants(table!, cursorKey(), query),
}));
