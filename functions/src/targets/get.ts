import { defineHandler } from "@bulkhead/core/http/handler";
import { getTarget } from "@bulkhead/core/targets/targets";

export const handler = defineHandler("targets.get", async ({ params }, { table }) => ({
  body: await getTarget(table!, params.targetId),
}));
