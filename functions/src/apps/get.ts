import { getApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";

export const handler = defineHandler(routes, "apps.get", async ({ params }, { table }) => ({
  body: await getApp(table!, params.appId),
}));
