import { getDeployment } from "@bulkhead/core/deployments/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/deployments";

export const handler = defineHandler(routes, "deployments.get", async ({ params }, { table }) => ({
  body: await getDeployment(table!, params.appId, params.deploymentId),
}));
