import { requestGrant } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/grants";

export const handler = defineHandler(routes, "grants.request", async ({ body }, { table, principal, audit }) => ({
  body: await requestGrant(table!, principal!.sub, body, audit),
}));
