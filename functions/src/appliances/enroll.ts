import { enroll } from "@bulkhead/core/enrollment/enrollment";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("appliances.enroll", async ({ body }, { table, enrollmentTokenHash }) => ({
  body: await enroll(table!, enrollmentTokenHash!, body),
}));
