import { updateApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";

export const handler = defineHandler(routes, "apps.update", async ({ params, body }, { table, audit }) => ({
  body: await updateApp(table!, params.appId, body, audit),
}));
