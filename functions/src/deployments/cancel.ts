import { cancelDeployment } from "@bulkhead/core/deployments/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/deployments";

export const handler = defineHandler(routes, "deployments.cancel", async ({ params }, { table, principal, audit }) => ({
  body: await cancelDeployment(table!, params.appId, params.deploymentId, principal!, audit),
}));
