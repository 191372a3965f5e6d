import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/orgs";
import { orgView, readOrg } from "@bulkhead/core/orgs";
import { notFound } from "@bulkhead/core/errors";

export const handler = defineHandler(routes, "orgs.get", async ({ params }) => {
  const org = await readOrg(params.slug);
  if (!org) throw notFound("No such org.");
  return { body: orgView(org) };
});
