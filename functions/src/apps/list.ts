import { listApps } from "@bulkhead/core/apps";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";

export const handler = defineHandler(routes, "apps.list", async ({ query }, { table }) => ({
  body: await listApps(table!, cursorKey(), query),
}));
