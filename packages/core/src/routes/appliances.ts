import type { RouteDef } from "./types.ts";
import type { EnrollmentChange } from "../enrollment/enrollment.ts";
import * as enrollment from "../enrollment/schemas.ts";

/** The appliances routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "appliances.enroll", method: "POST", path: "/v1/enroll", host: "org", access: { enrollment: true }, status: 201,
    summary: "Bind an appliance to this org with an enrollment token (Authorization: Enrollment <token>), once",
    body: enrollment.enrollBody, response: enrollment.applianceSchema,
    records: ({ enrollment, id, targetId, publicKeyFingerprint }: EnrollmentChange) =>
      ({ enrollment, applianceId: id!, ...(targetId && { targetId }), ...(publicKeyFingerprint && { publicKeyFingerprint }) }) },
] as const satisfies readonly RouteDef[];
