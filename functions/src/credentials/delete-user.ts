import { assertMayManageUserCredentials, deleteCredential } from "@bulkhead/core/credentials/service";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/credentials";

export const handler = defineHandler(routes, "credentials.delete-user", async ({ params }, { table, principal, audit }) => {
  assertMayManageUserCredentials(principal, params.sub);
  await deleteCredential(table!, { app: params.appId, scope: { kind: "user", sub: params.sub }, name: params.name }, audit);
  return {};
});
