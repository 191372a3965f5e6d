import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/openapi";

// Imported on first request, not at init: code splitting makes the 84 KB document a chunk of its own.
export const handler = defineHandler(routes, "openapi.get", async () => ({
  body: (await import("@bulkhead/core/openapi.json", { with: { type: "json" } })).default,
}));
