import { getApp } from "@bulkhead/core/apps";
import { config } from "@bulkhead/core/config";
import { listDeployments } from "@bulkhead/core/deployments/records";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("deployments.list", async ({ params, query }, { table }) => {
  await getApp(table!, params.appId);
  return { body: await listDeployments(table!, config().cursorKey, params.appId, query) };
});
