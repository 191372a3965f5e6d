import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/openapi";
import document from "@bulkhead/core/openapi.json" with { type: "json" };

export const handler = defineHandler(routes, "openapi.get", async () => ({ body: document }));
