import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/targets";
import { deleteTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler(routes, "targets.delete", async ({ params }, { table }) => {
  await deleteTarget(table!, params.targetId);
  return {};
});
