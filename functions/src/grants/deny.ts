import { decide } from "@bulkhead/core/grants/grants";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("grants.deny", async ({ params }, { table, principal }) => ({
  body: await decide(table!, params.grantId, "deny", principal!.sub),
}));
