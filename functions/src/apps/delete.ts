import { deleteApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.delete", async ({ params }, { table, audit }) => {
  await deleteApp(table!, params.appId, audit);
  return {};
});
