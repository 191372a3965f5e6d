import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/orgs";
import { orgView, setOrgStatus } from "@bulkhead/core/orgs";

export const handler = defineHandler(routes, "orgs.suspend", async ({ params }, { audit }) => ({
  body: orgView(await setOrgStatus(params.slug, "suspended", audit)),
}));
