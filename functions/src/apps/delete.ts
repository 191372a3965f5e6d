import { deleteApp } from "@bulkhead/core/apps";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";

export const handler = defineHandler(routes, "apps.delete", async ({ params }, { table, audit }) => {
  await deleteApp(table!, keyStore(), params.appId, audit);
  return {};
});
