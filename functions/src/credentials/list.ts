import { cursorKey } from "@bulkhead/core/config";
import { listCredentials } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/credentials";

export const handler = defineHandler(routes, "credentials.list", async ({ params, query }, { table }) => ({
  body: await listCredentials(table!, cursorKey(), params.appId, query),
}));
