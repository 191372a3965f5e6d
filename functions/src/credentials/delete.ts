import { deleteCredential } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("credentials.delete", async ({ params }, { table }) => {
  await deleteCredential(table!, { app: params.appId, scope: { kind: "system" }, name: params.name });
  return {};
});
