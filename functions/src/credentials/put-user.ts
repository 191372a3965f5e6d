import { assertMayManageUserCredentials, putCredential } from "@bulkhead/core/credentials/service";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/credentials";

export const handler = defineHandler(routes, "credentials.put-user", async ({ params, body }, { table, principal, audit }) => {
  assertMayManageUserCredentials(principal, params.sub);
  const target = { app: params.appId, scope: { kind: "user", sub: params.sub } as const, name: params.name };
  return { body: await putCredential(table!, keyStore(), target, body, audit) };
});
