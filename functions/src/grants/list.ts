import { cursorKey } from "@bulkhead/core/config";
import { listGrants } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("grants.list", async ({ query }, { table }) => ({
  body: await listGrants(table!, cursorKey(), query),
}));
