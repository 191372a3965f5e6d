/**
 * A grant's state is never stored: it is derived from the stored decisions and the clock, so it
 * cannot go stale. The DynamoDB conditions below say the same thing as `grantState`, and every
 * transition is a conditional write on them, so two concurrent decisions cannot both win.
 * Times are ISO-8601 UTC strings of one fixed format, so they compare as strings.
 */
export const GRANT_STATES = ["PENDING", "ACTIVE", "EXPIRED", "REVOKED", "DENIED"] as const;
export type GrantState = (typeof GRANT_STATES)[number];

export type GrantDecisions = {
  requestExpiresAt: string;
  approvedAt?: string;
  notBefore?: string;
  notAfter?: string;
  deniedAt?: string;
  revokedAt?: string;
};

export function grantState(grant: GrantDecisions, now: Date): GrantState {
  const at = now.toISOString();
  if (grant.revokedAt) return "REVOKED";
  if (grant.deniedAt) return "DENIED";
  if (grant.approvedAt) {
    if (at >= grant.notAfter!) return "EXPIRED";
    // Approval starts the window, so this only shows when clocks of two hosts disagree.
    return at >= grant.notBefore! ? "ACTIVE" : "PENDING";
  }
  return at < grant.requestExpiresAt ? "PENDING" : "EXPIRED";
}

/** Conditions over an item holding `GrantDecisions`; `:now` is the ISO time of the write. */
export const conditions = {
  pending:
    "attribute_exists(PK) AND attribute_not_exists(approvedAt) AND attribute_not_exists(deniedAt)" +
    " AND attribute_not_exists(revokedAt) AND requestExpiresAt > :now",
  active: "attribute_exists(approvedAt) AND attribute_not_exists(revokedAt) AND notBefore <= :now AND notAfter > :now",
  /** Neither pending nor approved-and-unexpired (or no grant at all): a new request may take its place. */
  closed:
    "attribute_not_exists(PK) OR attribute_exists(revokedAt) OR attribute_exists(deniedAt) OR notAfter <= :now" +
    " OR (attribute_not_exists(approvedAt) AND requestExpiresAt <= :now)",
} as const;
