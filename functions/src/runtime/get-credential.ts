import { readCredentialValue } from "@bulkhead/core/credentials/service";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/runtime";
import { runtimeApp } from "@bulkhead/core/auth/principal";

/** The app is the runtime token's `app` claim, never a path or body field. */
export const handler = defineHandler(routes, "runtime.get-credential", async ({ params }, { table, principal }) => ({
  body: await readCredentialValue(table!, keyStore(), { app: runtimeApp(principal), scope: { kind: "system" }, name: params.name }),
}));
