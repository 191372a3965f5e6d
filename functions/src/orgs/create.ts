import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/orgs";
import { createOrg, orgView } from "@bulkhead/core/orgs";

export const handler = defineHandler(routes, "orgs.create", async ({ body }, { audit }) => {
  const org = await createOrg(body, audit);
  return { body: orgView(org), headers: { location: `/v1/orgs/${org.slug}` } };
});
