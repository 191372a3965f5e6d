import { createApp } from "@bulkhead/core/apps";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";

export const handler = defineHandler(routes, "apps.create", async ({ body }, { table, audit }) => {
  const app = await createApp(table!, keyStore(), body, audit);
  return { body: app, headers: { location: `/v1/apps/${app.id}` } };
});
