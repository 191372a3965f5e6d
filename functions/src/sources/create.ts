import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/sources";
import { sourcesConfig } from "@bulkhead/core/sources/config";
import { issueSourceUpload } from "@bulkhead/core/sources/service";

export const handler = defineHandler(routes, "sources.create", async ({ params, body }, { table, principal, audit }) => {
  const created = await issueSourceUpload(table!, sourcesConfig(), { appId: params.appId, ...body }, principal!, audit);
  return { body: created, headers: { location: `/v1/apps/${params.appId}/sources` } };
});
