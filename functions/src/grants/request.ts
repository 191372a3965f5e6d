import { requestGrant } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("grants.request", async ({ body }, { table, principal }) => ({
  body: await requestGrant(table!, principal!.sub, body),
}));
