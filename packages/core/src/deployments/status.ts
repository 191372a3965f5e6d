export const DEPLOYMENT_STATUSES = ["QUEUED", "BUILDING", "DEPLOYING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const ACTIVE_STATUSES = ["QUEUED", "BUILDING", "DEPLOYING"] as const satisfies readonly DeploymentStatus[];
export const TERMINAL_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED"] as const satisfies readonly DeploymentStatus[];

export type Timestamp = "buildStartedAt" | "buildFinishedAt" | "deployStartedAt" | "finishedAt";

/**
 * Every way a deployment's status may change, and from where. Each is applied as one conditional
 * write on the current status, so a late or repeated task can never move a deployment out of a
 * terminal state, nor skip a step.
 */
export const TRANSITIONS = {
  beginBuild: { from: ["QUEUED"], to: "BUILDING", stamps: ["buildStartedAt"] },
  finishBuild: { from: ["BUILDING"], to: "DEPLOYING", stamps: ["buildFinishedAt", "deployStartedAt"] },
  succeed: { from: ["DEPLOYING"], to: "SUCCEEDED", stamps: ["finishedAt"] },
  fail: { from: ACTIVE_STATUSES, to: "FAILED", stamps: ["finishedAt"] },
  cancel: { from: ACTIVE_STATUSES, to: "CANCELLED", stamps: ["finishedAt"] },
} as const satisfies Record<string, { from: readonly DeploymentStatus[]; to: DeploymentStatus; stamps: readonly Timestamp[] }>;

export type TransitionName = keyof typeof TRANSITIONS;

export const isTerminal = (status: DeploymentStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);
