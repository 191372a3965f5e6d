import { cursorKey } from "@bulkhead/core/config";
import { listCredentials } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("credentials.list", async ({ params, query }, { table }) => ({
  body: await listCredentials(table!, cursorKey(), params.appId, query),
}));
