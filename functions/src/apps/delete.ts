import { deleteApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.delete", async ({ params }, { table }) => {
  await deleteApp(table!, params.appId);
  return {};
});
