import { enroll } from "@bulkhead/core/enrollment/enrollment";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/appliances";

export const handler = defineHandler(routes, "appliances.enroll", async ({ body }, { table, enrollmentTokenHash, audit }) => ({
  body: await enroll(table!, enrollmentTokenHash!, body, audit),
}));
