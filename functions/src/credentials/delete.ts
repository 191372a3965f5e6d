import { deleteCredential } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/credentials";

export const handler = defineHandler(routes, "credentials.delete", async ({ params }, { table, audit }) => {
  await deleteCredential(table!, { app: params.appId, scope: { kind: "system" }, name: params.name }, audit);
  return {};
});
