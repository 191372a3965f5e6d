import { deployerRoleArn } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/targets";
import { createTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler(routes, "targets.create", async ({ body }, { table, audit }) => {
  const created = await createTarget(table!, body, deployerRoleArn(), audit);
  return { body: created, headers: { location: `/v1/targets/${created.id}` } };
});
