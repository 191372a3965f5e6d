import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/org";

export const handler = defineHandler(routes, "org.get", async (_input, { org }) => ({ body: org }));
