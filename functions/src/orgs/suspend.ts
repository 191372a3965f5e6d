import { defineHandler } from "@bulkhead/core/http/handler";
import { setOrgStatus } from "@bulkhead/core/orgs";

export const handler = defineHandler("orgs.suspend", async ({ params }) => ({
  body: await setOrgStatus(params.slug, "suspended"),
}));
