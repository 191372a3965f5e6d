import { putCredential } from "@bulkhead/core/credentials/service";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/credentials";

export const handler = defineHandler(routes, "credentials.put", async ({ params, body }, { table, audit }) => ({
  body: await putCredential(table!, keyStore(), { app: params.appId, scope: { kind: "system" }, name: params.name }, body, audit),
}));
