import { assertMayManageUserCredentials, deleteCredential } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("credentials.delete-user", async ({ params }, { table, principal }) => {
  assertMayManageUserCredentials(principal, params.sub);
  await deleteCredential(table!, { app: params.appId, scope: { kind: "user", sub: params.sub }, name: params.name });
  return {};
});
