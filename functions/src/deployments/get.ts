import { getDeployment } from "@bulkhead/core/deployments/service";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("deployments.get", async ({ params }, { table }) => ({
  body: await getDeployment(table!, params.appId, params.deploymentId),
}));
