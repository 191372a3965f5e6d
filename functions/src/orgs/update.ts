import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/orgs";
import { orgView, updateOrg } from "@bulkhead/core/orgs";

export const handler = defineHandler(routes, "orgs.update", async ({ params, body }, { audit }) => ({
  body: orgView(await updateOrg(params.slug, body, audit)),
}));
