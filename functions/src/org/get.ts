import { defineHandler } from "@bulkhead/core/http/handler";
import { orgUsage } from "@bulkhead/core/limits/usage";
import { orgView } from "@bulkhead/core/orgs";
import { routes } from "@bulkhead/core/routes/org";

export const handler = defineHandler(routes, "org.get", async (_input, { org, table }) => ({
  body: { ...orgView(org!), usage: await orgUsage(table!) },
}));
