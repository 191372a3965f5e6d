import { createEnrollment } from "@bulkhead/core/enrollment/enrollment";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/enrollments";

export const handler = defineHandler(routes, "enrollments.create", async ({ body }, { table, principal, audit }) => ({
  body: await createEnrollment(table!, body, principal!.sub, audit),
}));
