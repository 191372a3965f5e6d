import { updateApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.update", async ({ params, body }, { table, audit }) => ({
  body: await updateApp(table!, params.appId, body, audit),
}));
