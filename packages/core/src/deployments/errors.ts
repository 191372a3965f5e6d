import { BulkheadError, InternalError } from "../errors.ts";
import { TRANSITIONS, type DeploymentStatus, type TransitionName } from "./status.ts";

/** The deployment is not in a status the transition starts from, or does not exist (`current` undefined). */
export class TransitionRefused extends InternalError {
  override readonly name = "TransitionRefused";
  constructor(readonly transition: TransitionName, readonly current: DeploymentStatus | undefined) {
    super(current ? `deployment is ${current}; ${transition} needs ${TRANSITIONS[transition].from.join(" or ")}` : "no such deployment");
  }
}

export const deploymentNotFound = () => new BulkheadError("not-found", "No such deployment.");
/** Deployments are refused, not queued, while the org's running deployments are at its limit. */
export const deploymentsAtLimit = (max: number) =>
  new BulkheadError("deployment-limit",
    `This organization may run ${max} deployment${max === 1 ? "" : "s"} at once and that many have not ended; start this one when one ends.`,
    { limit: "concurrentDeployments", max });
export const idempotencyKeyReused = () =>
  new BulkheadError("idempotency-key-reused", "This Idempotency-Key was already used with a different request.");
