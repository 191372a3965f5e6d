import { deleteApp } from "@bulkhead/core/apps";
import { keyStore } from "@bulkhead/core/credentials/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.delete", async ({ params }, { table, audit }) => {
  await deleteApp(table!, keyStore(), params.appId, audit);
  return {};
});
