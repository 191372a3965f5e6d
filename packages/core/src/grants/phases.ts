import type { PolicyDocument } from "../iam/document.ts";

/**
 * Vendor access comes in phases. Observe is the steady state: read-only, on unless the org
 * revokes it. The others are elevated: requested by a platform operator for one target, approved
 * by an org owner or admin, and bounded in time.
 */
export const GRANT_PHASES = ["Install", "Observe", "Deploy", "Operate"] as const;
export type GrantPhase = (typeof GRANT_PHASES)[number];

export const ELEVATED_PHASES = ["Install", "Deploy", "Operate"] as const;
export type ElevatedPhase = (typeof ELEVATED_PHASES)[number];

/** The longest an elevated grant may last once approved. */
export const MAX_GRANT_SECONDS: Readonly<Record<ElevatedPhase, number>> = {
  Install: 24 * 3600,
  Deploy: 12 * 3600,
  Operate: 4 * 3600,
};
export const MIN_GRANT_SECONDS = 300;

/** The standing Observe grant's id in the API: there is one per org, so it has no generated id. */
export const OBSERVE_GRANT_ID = "observe";

/** A request nobody decided on lapses (state EXPIRED): a stale request is never approved by surprise. */
export const PENDING_REQUEST_SECONDS = 24 * 3600;

/** What a phase's session policy is scoped to when the workflow assumes a target's role. */
export type SessionPolicyScope = { org: string; targetId: string; app?: string; deployment?: string };

/**
 * The hook the IAM policy module implements: one session policy per phase (with its explicit
 * denies of destructive actions). The documents live in that module, not here:
 * `export const phaseSessionPolicies = { … } satisfies PhaseSessionPolicies`.
 */
export type PhaseSessionPolicies = { readonly [P in GrantPhase]: (scope: SessionPolicyScope) => PolicyDocument };
