import { taskError } from "../workflows/errors.ts";
import type { GrantCheck, GrantPort } from "./ports.ts";

/**
 * The grant seam. The targets-and-grants work replaces this adapter with one that reads the org's
 * approved, time-bounded Deploy grant for the target; the workflow already asks twice, before
 * AssumeRole and again right before applying, so a revocation stops a running deployment.
 *
 * Until then only the platform's own (hosted) account may be deployed to: a customer-account
 * (BYOI) target is refused, because nothing yet records the customer's approval.
 */
export function hostedOnlyGrants(): GrantPort {
  return {
    async check(request: GrantCheck) {
      if (request.target.kind === "hosted") return;
      throw taskError("grantDenied", `no approved ${request.phase} grant covers target ${request.target.id}`);
    },
  };
}
