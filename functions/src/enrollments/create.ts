import { createEnrollment } from "@bulkhead/core/enrollment/enrollment";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("enrollments.create", async ({ body }, { table, principal }) => ({
  body: await createEnrollment(table!, body, principal!.sub),
}));
