import { decide } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("grants.revoke", async ({ params }, { table, principal }) => ({
  body: await decide(table!, params.grantId, "revoke", principal!.sub),
}));
