import { cursorKey } from "@bulkhead/core/config";
import { listDeployments } from "@bulkhead/core/deployments/records";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/deployments";

export const handler = defineHandler(routes, "deployments.list", async ({ params, query }, { table }) => ({
  body: await listDeployments(table!, cursorKey(), params.appId, query),
}));
