import { cancelDeployment } from "@bulkhead/core/deployments/service";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("deployments.cancel", async ({ params }, { table, principal }) => ({
  body: await cancelDeployment(table!, params.appId, params.deploymentId, principal!),
}));
