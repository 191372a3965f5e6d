import { getApp } from "@bulkhead/core/apps";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("apps.get", async ({ params }, { table }) => ({
  body: await getApp(table!, params.appId),
}));
