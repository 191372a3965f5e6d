import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/targets";
import { deleteTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler(routes, "targets.delete", async ({ params }, { table, audit }) => {
  await deleteTarget(table!, params.targetId, audit);
  return {};
});
