import { defineHandler } from "@bulkhead/core/http/handler";
import document from "@bulkhead/core/openapi.json" with { type: "json" };

export const handler = defineHandler("openapi.get", async () => ({ body: document }));
