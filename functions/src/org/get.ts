import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("org.get", async (_input, { org }) => ({ body: org }));
