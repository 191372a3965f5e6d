import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/targets";
import { getTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler(routes, "targets.get", async ({ params }, { table }) => ({
  body: await getTarget(table!, params.targetId),
}));
