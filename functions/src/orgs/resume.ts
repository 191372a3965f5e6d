import { defineHandler } from "@bulkhead/core/http/handler";
import { setOrgStatus } from "@bulkhead/core/orgs";

export const handler = defineHandler("orgs.resume", async ({ params }) => ({
  body: await setOrgStatus(params.slug, "active"),
}));
