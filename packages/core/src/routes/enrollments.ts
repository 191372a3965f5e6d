import type { RouteDef } from "./types.ts";
import type { EnrollmentChange } from "../enrollment/enrollment.ts";
import * as enrollment from "../enrollment/schemas.ts";

/** The enrollments routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "enrollments.create", method: "POST", path: "/v1/enrollments", host: "org", access: { member: "admin" }, status: 201,
    summary: "Issue a single-use enrollment token (returned only here)", body: enrollment.createEnrollmentBody, response: enrollment.enrollmentSchema,
    records: ({ enrollment, expiresAt, targetId }: EnrollmentChange) => ({ enrollment, expiresAt: expiresAt!, ...(targetId && { targetId }) }) },
] as const satisfies readonly RouteDef[];
