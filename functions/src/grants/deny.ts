import { decide } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/grants";

export const handler = defineHandler(routes, "grants.deny", async ({ params }, { table, principal, audit }) => ({
  body: await decide(table!, params.grantId, "deny", principal!.sub, audit),
}));
