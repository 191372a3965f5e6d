import { defineHandler } from "@bulkhead/core/http/handler";
import { deleteTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler("targets.delete", async ({ params }, { table }) => {
  await deleteTarget(table!, params.targetId);
  return {};
});
