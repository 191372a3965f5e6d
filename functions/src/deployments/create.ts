import { startDeployment } from "@bulkhead/core/deployments/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/deployments";

export const handler = defineHandler(routes, "deployments.create", async ({ params, body, headers }, { table, principal, audit }) => {
  const { deployment, replayed } = await startDeployment(table!, {
    appId: params.appId,
    body,
    principal: principal!,
    idempotencyKey: headers["idempotency-key"],
  }, audit);
  return {
    body: deployment,
    headers: {
      location: `/v1/apps/${params.appId}/deployments/${deployment.id}`,
      ...(replayed && { "idempotent-replayed": "true" }),
    },
  };
});
