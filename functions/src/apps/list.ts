import { listApps } from "@bulkhead/core/apps";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.list", async ({ query }, { table }) => ({
  body: await listApps(table!, cursorKey(), query),
}));
