import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/sources";
import { listSources } from "@bulkhead/core/sources/service";

export const handler = defineHandler(routes, "sources.list", async ({ params, query }, { table }) => ({
  body: await listSources(table!, cursorKey(), params.appId, query),
}));
